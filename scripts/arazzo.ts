/**
 * Build step: each API's Arazzo workflows (spec/<id>/workflows.arazzo.yaml), bundled by Redocly
 * into generated/<id>/workflows.arazzo.yaml beside the bundled contract they run over. Their
 * `sourceDescriptions` name `./openapi.yaml`, which is the split contract next to the source and
 * the bundled one next to the copy, so the copy needs no rewriting.
 *
 * Also what the other scripts read from an Arazzo document: its steps' operations, the
 * environment variables its inputs name, and the workflows that only run when another one calls
 * them. An API without a workflows file is skipped everywhere, so adding one is adding the file.
 */
import { access, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { generatedDir, parseStepArgs, produceInto, ROOT, runIfMain, runTool, step, StepError, type PipelineApi, type StepContext } from "./lib.ts";

export const WORKFLOWS_FILE = "workflows.arazzo.yaml";

export interface ArazzoCriterion {
  condition: string;
  context?: string;
  type?: string;
}

export interface ArazzoAction {
  name: string;
  type: "end" | "goto" | "retry";
  stepId?: string;
  workflowId?: string;
  retryAfter?: number;
  retryLimit?: number;
  criteria?: ArazzoCriterion[];
}

export interface ArazzoParameter {
  name?: string;
  in?: string;
  value?: unknown;
  /** `$components.parameters.<name>`, a reusable parameter. */
  reference?: string;
}

export interface ArazzoStep {
  stepId: string;
  description?: string;
  operationId?: string;
  workflowId?: string;
  parameters?: ArazzoParameter[];
  requestBody?: { contentType?: string; payload?: unknown };
  successCriteria?: ArazzoCriterion[];
  onSuccess?: ArazzoAction[];
  onFailure?: ArazzoAction[];
  outputs?: Record<string, string>;
}

export interface ArazzoWorkflow {
  workflowId: string;
  summary?: string;
  description?: string;
  inputs?: JsonSchema;
  steps: ArazzoStep[];
  outputs?: Record<string, string>;
}

export interface ArazzoDocument {
  arazzo: string;
  info: { title: string; version: string; summary?: string; description?: string };
  sourceDescriptions: { name: string; url: string; type?: string }[];
  workflows: ArazzoWorkflow[];
  components?: { inputs?: Record<string, JsonSchema>; parameters?: Record<string, ArazzoParameter> };
}

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  description?: string;
  default?: unknown;
  format?: string;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
}

/** Where an API's hand-written workflows live. */
export const workflowsSource = (id: string) => join(ROOT, "spec", id, WORKFLOWS_FILE);

export async function hasWorkflows(id: string): Promise<boolean> {
  return access(workflowsSource(id)).then(
    () => true,
    () => false,
  );
}

export async function readArazzo(path: string): Promise<ArazzoDocument> {
  let document: ArazzoDocument;
  try {
    document = parseYaml(await readFile(path, "utf8")) as ArazzoDocument;
  } catch (error) {
    throw new StepError(`Cannot read the workflows at ${path}: ${(error as Error).message}`);
  }
  if (typeof document?.arazzo !== "string" || !Array.isArray(document.workflows)) {
    throw new StepError(`${path} is not an Arazzo document (no "arazzo" version or no "workflows").`);
  }
  return document;
}

/** Follows a local `$ref` (`#/components/inputs/…`) inside the Arazzo document, if there is one. */
export function resolveRef<T>(document: ArazzoDocument, value: T): T {
  let current: unknown = value;
  for (let hops = 0; hops < 16; hops++) {
    const ref = (current as { $ref?: unknown } | undefined)?.$ref;
    if (typeof ref !== "string") return current as T;
    if (!ref.startsWith("#/")) throw new StepError(`Only local $refs are supported in Arazzo documents, got "${ref}".`);
    current = ref
      .slice(2)
      .split("/")
      .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
    if (current === undefined) throw new StepError(`Arazzo $ref "${ref}" points at nothing.`);
  }
  throw new StepError("Arazzo $refs nest more than 16 deep.");
}

/**
 * The operation a step calls: `operationId: listVpses` (the only source description) or
 * `operationId: $sourceDescriptions.tasks.getTask`. Undefined for a step that runs a workflow.
 */
export function stepOperation(document: ArazzoDocument, step: ArazzoStep): { source: string; operationId: string } | undefined {
  if (!step.operationId) return undefined;
  const qualified = /^\$sourceDescriptions\.([^.]+)\.(.+)$/.exec(step.operationId);
  if (qualified) return { source: qualified[1]!, operationId: qualified[2]! };
  const sources = document.sourceDescriptions.filter((source) => (source.type ?? "openapi") === "openapi");
  if (sources.length !== 1) {
    throw new StepError(`Step "${step.stepId}" names operation "${step.operationId}" without its source; with several sources, write $sourceDescriptions.<name>.${step.operationId}.`);
  }
  return { source: sources[0]!.name, operationId: step.operationId };
}

/** The input schema of a workflow, `$ref`s followed, properties included. */
export function workflowInputs(document: ArazzoDocument, workflow: ArazzoWorkflow): JsonSchema {
  const schema = resolveRef(document, workflow.inputs ?? {});
  const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, resolveRef(document, property)]));
  return { ...schema, properties };
}

/** The environment variables the workflows read (`$inputs.env.<NAME>`), from their input schemas. */
export function environmentNames(document: ArazzoDocument): string[] {
  const names = new Set<string>();
  for (const workflow of document.workflows) {
    const env = workflowInputs(document, workflow).properties?.env;
    for (const name of Object.keys(env?.properties ?? {})) names.add(name);
  }
  return [...names].sort();
}

/**
 * Workflows with required inputs (other than the environment): they only make sense when another
 * workflow calls them with those inputs (`waitForTask` needs a `taskId`), so a run of the whole
 * file skips them at the top level.
 */
export function calledWorkflows(document: ArazzoDocument): string[] {
  return document.workflows.filter((workflow) => (workflowInputs(document, workflow).required ?? []).some((name) => name !== "env")).map((workflow) => workflow.workflowId);
}

/** Arazzo's own key order, so that the bundled copy reads like the source. */
const TOP_LEVEL_ORDER = ["arazzo", "info", "sourceDescriptions", "workflows", "components"];

export async function arazzo(api: PipelineApi, ctx: StepContext): Promise<void> {
  if (!(await hasWorkflows(api.id))) return;
  await step(api.id, "arazzo", () =>
    produceInto(generatedDir(ctx, api.id), async (scratch) => {
      const bundled = join(scratch, WORKFLOWS_FILE);
      await runTool("redocly", ["bundle", relative(ROOT, workflowsSource(api.id)), "--output", bundled]);
      await writeFile(bundled, normalize(parseYaml(await readFile(bundled, "utf8")) as Record<string, unknown>));
      return [WORKFLOWS_FILE];
    }),
  );
}

/** Redocly's bundle of an Arazzo file puts `info` first and adds empty `components`; undo both. */
function normalize(document: Record<string, unknown>): string {
  const ordered: Record<string, unknown> = {};
  for (const key of [...TOP_LEVEL_ORDER, ...Object.keys(document)]) {
    const value = document[key];
    const empty = typeof value === "object" && value !== null && Object.keys(value).length === 0;
    if (key in document && !(key in ordered) && !empty) ordered[key] = value;
  }
  return stringifyYaml(ordered, { lineWidth: 0 });
}

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx } = await parseStepArgs(argv);
  for (const api of apis) await arazzo(api, ctx);
});
