/**
 * What the Arazzo workflows must cover, checked against the bundled contracts: every asynchronous
 * operation runs in a workflow and is followed by a poll that retries with a delay and a limit;
 * every API has a journey that is refused without credentials (with a status its contract
 * documents) and answered with them; paged lists (Cloud 66's, Cloud Manager's) are followed to
 * their last page.
 *
 * The asynchronous operations are found from the contract's response schemas, not from a list:
 * a call whose success answers a task (`taskId`), a stack action (`finished_at`) or its id
 * (`async_action_id`); for CVM, whose actions answer an empty `200` and are followed by the
 * VPS status, a POST whose success has no body; for Cloud Manager, a POST or PUT that starts or
 * retries a job (a GET of its own path, of one below it, or of the one job above it answers a
 * state that can be `IN_PROGRESS`), followed by that job, and a POST or PUT of the automation
 * configuration, which the agents take up later, followed by the automation status (`goalVersion`).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { APIS } from "../../src/apis.ts";
import { hasWorkflows, readArazzo, resolveRef, stepOperation, workflowInputs, workflowsSource, type ArazzoDocument, type ArazzoParameter, type ArazzoStep, type ArazzoWorkflow } from "../../scripts/arazzo.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The APIs whose journeys the workflows were asked for; any other API's file is held to the same checks. */
const REQUIRED = ["cloudmc", "cloudstack", "cloud66", "cvm", "cloudmanager"];
const WITH_WORKFLOWS = APIS.map((api) => api.id).filter((id) => existsSync(workflowsSource(id)));

/** Properties that mark an answer as the start of asynchronous work, whatever the API. */
const ASYNC_MARKERS = ["taskId", "async_action_id", "finished_at"];

/**
 * The one asynchronous call no workflow can poll: Cloud 66 names the stack a `createStack` action
 * belongs to by its numeric id, while the action's path wants the stack's UID (createDockerStack
 * says so).
 */
const UNPOLLABLE = new Set(["cloud66:createStack"]);

type Json = Record<string, unknown>;
const HTTP_METHODS = ["get", "put", "post", "delete", "patch"];

interface ContractOperation {
  operationId: string;
  method: string;
  path: string;
  operation: Json;
}

async function loadContract(id: string): Promise<Json> {
  return JSON.parse(await readFile(join(ROOT, "generated", id, "openapi.json"), "utf8")) as Json;
}

function deref(document: Json, value: unknown): Json {
  let current = value as Json;
  for (let hops = 0; typeof current?.$ref === "string" && hops < 32; hops++) {
    current = (current.$ref as string)
      .slice(2)
      .split("/")
      .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
      .reduce<Json>((node, key) => node[key] as Json, document);
  }
  return current;
}

function operationsOf(document: Json): ContractOperation[] {
  return Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) =>
    HTTP_METHODS.flatMap((method) => {
      const operation = item[method] as Json | undefined;
      return operation?.operationId ? [{ operationId: operation.operationId as string, method, path, operation }] : [];
    }),
  );
}

/** Property names anywhere in a schema: through $ref, allOf/oneOf/anyOf and nested objects (not arrays). */
function propertyNames(document: Json, schema: unknown, names = new Set<string>(), depth = 0): Set<string> {
  const resolved = deref(document, schema);
  if (typeof resolved !== "object" || resolved === null || depth > 8) return names;
  for (const [name, property] of Object.entries((resolved.properties as Record<string, unknown>) ?? {})) {
    names.add(name);
    propertyNames(document, property, names, depth + 1);
  }
  for (const keyword of ["allOf", "oneOf", "anyOf"]) for (const part of (resolved[keyword] as unknown[]) ?? []) propertyNames(document, part, names, depth + 1);
  return names;
}

/** The success answers of an operation: their JSON schema, or undefined for an answer without a body. */
function successAnswers(document: Json, operation: Json): (unknown | undefined)[] {
  return Object.entries(operation.responses as Json)
    .filter(([status]) => status.startsWith("2"))
    .map(([, response]) => {
      const content = deref(document, response).content as Record<string, { schema?: unknown }> | undefined;
      return content ? Object.entries(content).find(([type]) => type.includes("json"))?.[1].schema : undefined;
    });
}

/** Whether a schema, or one it holds (through $ref, combinators, properties and items), has a state that can be `IN_PROGRESS`: a job. */
function answersJob(document: Json, schema: unknown, depth = 0): boolean {
  const resolved = deref(document, schema);
  if (typeof resolved !== "object" || resolved === null || depth > 8) return false;
  if (Array.isArray(resolved.enum) && resolved.enum.includes("IN_PROGRESS")) return true;
  const parts = [
    ...Object.values((resolved.properties as Record<string, unknown>) ?? {}),
    resolved.items,
    ...["allOf", "oneOf", "anyOf"].flatMap((keyword) => (resolved[keyword] as unknown[]) ?? []),
  ];
  return parts.some((part) => part !== undefined && answersJob(document, part, depth + 1));
}

/** Cloud Manager: the GETs that read a job, by path. */
function jobPaths(document: Json): Set<string> {
  return new Set(operationsOf(document).filter(({ method, operation }) => method === "get" && successAnswers(document, operation).some((schema) => answersJob(document, schema))).map(({ path }) => path));
}

const AUTOMATION_CONFIG = /^\/groups\/\{groupId\}\/automationConfig(\/|$)/;

/** Operations that start asynchronous work, from their response schemas (see the file comment). */
function asyncOperations(id: string, document: Json): string[] {
  const jobs = id === "cloudmanager" ? jobPaths(document) : new Set<string>();
  return operationsOf(document)
    .filter(({ method, path, operation }) => {
      if (method === "get") return false;
      const answers = successAnswers(document, operation);
      if (id === "cvm") return method === "post" && answers.length > 0 && answers.every((schema) => schema === undefined);
      if (id === "cloudmanager") {
        if (method !== "post" && method !== "put") return false;
        if (AUTOMATION_CONFIG.test(path)) return true;
        // The jobs it creates (its own path, or one below it) or the one job it acts on (`…/{jobId}/retry`).
        const parent = path.replace(/\/[^/]+$/, "");
        const nearby = [path, ...(parent.endsWith("}") ? [parent] : []), ...[...jobs].filter((job) => job.startsWith(`${path}/{`) && !job.slice(path.length + 1).includes("/"))];
        return nearby.some((candidate) => jobs.has(candidate));
      }
      return answers.some((schema) => ASYNC_MARKERS.some((marker) => propertyNames(document, schema).has(marker)));
    })
    .map(({ operationId }) => operationId);
}

/** Reads that follow asynchronous work: GETs answering a task, an action, (CVM) a status, (Cloud Manager) a job or the automation goal. */
function pollOperations(id: string, document: Json): Set<string> {
  const markers = id === "cvm" ? ["status"] : id === "cloudmanager" ? ["goalVersion"] : ASYNC_MARKERS;
  return new Set(
    operationsOf(document)
      .filter(({ method, operation }) => method === "get" && successAnswers(document, operation).some((schema) => markers.some((marker) => propertyNames(document, schema).has(marker)) || (id === "cloudmanager" && answersJob(document, schema))))
      .map(({ operationId }) => operationId),
  );
}

const operationOf = (workflows: ArazzoDocument, step: ArazzoStep) => stepOperation(workflows, step)?.operationId;

/** A step that polls: it calls a poll operation and retries on failure after a delay, a limited number of times. */
function isPollingStep(workflows: ArazzoDocument, step: ArazzoStep, polls: Set<string>): boolean {
  const operation = operationOf(workflows, step);
  const retry = step.onFailure?.find((action) => action.type === "retry");
  return operation !== undefined && polls.has(operation) && (retry?.retryAfter ?? 0) > 0 && (retry?.retryLimit ?? 0) > 0;
}

/** Whether a workflow polls, itself or through the workflows its steps run. */
function polls(workflows: ArazzoDocument, workflow: ArazzoWorkflow, pollIds: Set<string>, seen = new Set<string>()): boolean {
  if (seen.has(workflow.workflowId)) return false;
  seen.add(workflow.workflowId);
  return workflow.steps.some((step) => isPollingStep(workflows, step, pollIds) || (step.workflowId !== undefined && polls(workflows, byId(workflows, step.workflowId), pollIds, seen)));
}

const byId = (workflows: ArazzoDocument, workflowId: string) => {
  const found = workflows.workflows.find((workflow) => workflow.workflowId === workflowId);
  if (!found) throw new Error(`No workflow "${workflowId}"`);
  return found;
};

/** The header names the contract's security schemes use (`MC-Api-Key`, `Authorization`, …). */
function credentialHeaders(document: Json): Set<string> {
  const schemes = Object.values(((document.components as Json | undefined)?.securitySchemes as Record<string, Json>) ?? {});
  return new Set(schemes.map((scheme) => (scheme.type === "apiKey" && scheme.in === "header" ? (scheme.name as string) : "Authorization").toLowerCase()));
}

function resolvedParameters(workflows: ArazzoDocument, step: ArazzoStep): ArazzoParameter[] {
  return (step.parameters ?? []).map((parameter) => {
    const name = parameter.reference && /^\$components\.parameters\.(.+)$/.exec(parameter.reference)?.[1];
    return name ? { ...resolveRef(workflows, workflows.components?.parameters?.[name]), ...parameter } : parameter;
  });
}

const expectsStatus = (step: ArazzoStep, status: number) => (step.successCriteria ?? []).some((criterion) => criterion.condition.replace(/\s+/g, " ") === `$statusCode == ${status}`);

it.each(REQUIRED)("%s has workflows", async (id) => {
  expect(await hasWorkflows(id)).toBe(true);
});

describe.each(WITH_WORKFLOWS)("%s workflows", (id) => {
  it("refer to the API's own contract", async () => {
    const workflows = await readArazzo(workflowsSource(id));
    expect(workflows.arazzo).toBe("1.0.1");
    for (const source of workflows.sourceDescriptions) expect(source).toMatchObject({ url: "./openapi.yaml", type: "openapi" });
  });

  it("read credentials only from the environment, declared as secrets so that respect masks them", async () => {
    const workflows = await readArazzo(workflowsSource(id));
    const variables = workflows.workflows.flatMap((workflow) => Object.entries(workflowInputs(workflows, workflow).properties?.env?.properties ?? {}));
    expect(variables.length).toBeGreaterThan(0);
    for (const [name, schema] of variables) expect(resolveRef(workflows, schema).format, name).toBe("password");
    const text = await readFile(workflowsSource(id), "utf8");
    for (const reference of text.match(/\$inputs\.env\.\w+/g) ?? []) expect(variables.map(([name]) => name)).toContain(reference.slice("$inputs.env.".length));
  });

  it("run every asynchronous operation of the contract, each followed by a poll that retries with a delay and a limit", async () => {
    const [workflows, contract] = await Promise.all([readArazzo(workflowsSource(id)), loadContract(id)]);
    const asynchronous = asyncOperations(id, contract);
    const pollIds = pollOperations(id, contract);
    expect(asynchronous.length).toBeGreaterThan(0);
    const run = new Set(workflows.workflows.flatMap((workflow) => workflow.steps.map((step) => operationOf(workflows, step))));
    expect(asynchronous.filter((operationId) => !run.has(operationId)), "asynchronous operations no workflow runs").toEqual([]);

    const unpolled: string[] = [];
    for (const workflow of workflows.workflows) {
      workflow.steps.forEach((step, index) => {
        const operation = operationOf(workflows, step);
        if (!operation || !asynchronous.includes(operation) || UNPOLLABLE.has(`${id}:${operation}`)) return;
        const later = workflow.steps.slice(index + 1);
        const polled = later.some((next) => isPollingStep(workflows, next, pollIds) || (next.workflowId !== undefined && polls(workflows, byId(workflows, next.workflowId), pollIds)));
        if (!polled) unpolled.push(`${workflow.workflowId}/${step.stepId} (${operation})`);
      });
    }
    expect(unpolled, "asynchronous calls not followed by a retrying poll").toEqual([]);
  });

  it("include a journey refused without credentials, with a documented status, then answered with them", async () => {
    const [workflows, contract] = await Promise.all([readArazzo(workflowsSource(id)), loadContract(id)]);
    const headers = credentialHeaders(contract);
    const operations = new Map(operationsOf(contract).map((entry) => [entry.operationId, entry.operation]));
    // A credential header among the step's parameters, or a security scheme (respect's `x-security`,
    // on the step or its workflow) for respect to answer: how Cloud Manager's digest is given.
    const schemes = (holder: object) => ((holder as { "x-security"?: unknown[] })["x-security"] ?? []).length > 0;
    const hasCredentials = (workflow: ArazzoWorkflow, step: ArazzoStep) =>
      schemes(workflow) || schemes(step) || resolvedParameters(workflows, step).some((parameter) => parameter.in === "header" && headers.has((parameter.name ?? "").toLowerCase()));
    const journeys = workflows.workflows.filter((workflow) => {
      const refused = workflow.steps.findIndex((step) => {
        const documented = Object.keys((operations.get(operationOf(workflows, step) ?? "")?.responses as Json | undefined) ?? {});
        return !hasCredentials(workflow, step) && [401, 403].some((status) => expectsStatus(step, status) && documented.includes(String(status)));
      });
      return refused !== -1 && workflow.steps.slice(refused + 1).some((step) => hasCredentials(workflow, step) && expectsStatus(step, 200));
    });
    expect(journeys.map((workflow) => workflow.workflowId)).not.toEqual([]);
  });

  it("read paged lists to their last page", async () => {
    const [workflows, contract] = await Promise.all([readArazzo(workflowsSource(id)), loadContract(id)]);
    // Cloud 66 pages with `pagination` (its `next` a page number); Cloud Manager with `links`, one
    // of them `rel: next` while there is a next page. The others answer whole lists.
    const pagedBy = (names: Set<string>) => (names.has("pagination") ? "pagination" : names.has("results") && names.has("links") && names.has("totalCount") ? "links" : undefined);
    const paged = new Map(
      operationsOf(contract).flatMap(({ method, operation, operationId }) => {
        const style = method === "get" ? successAnswers(contract, operation).map((schema) => pagedBy(propertyNames(contract, schema))).find(Boolean) : undefined;
        return style ? [[operationId, style] as const] : [];
      }),
    );
    if (paged.size === 0) return;
    const followers = workflows.workflows.filter((workflow) => {
      const pageStep = workflow.steps.find((step) => paged.has(operationOf(workflows, step) ?? ""));
      const operation = pageStep && operationOf(workflows, pageStep);
      if (!pageStep || !operation) return false;
      const lastPage = paged.get(operation) === "pagination" ? /pagination\/next == null/ : /rel == 'next'\]\) == 0/;
      const endsOnLastPage = pageStep.onSuccess?.some((action) => action.type === "end" && action.criteria?.some((criterion) => lastPage.test(criterion.condition)));
      // The next page: the workflow again with the page the answer named (Cloud 66), or, where the
      // answer names none that Arazzo can read (a link's href), further steps on later pages, each
      // ending the workflow on the last page.
      const readsNext =
        paged.get(operation) === "pagination"
          ? workflow.steps.some((step) => step.workflowId === workflow.workflowId && step.parameters?.some((parameter) => String(parameter.value).includes(`$steps.${pageStep.stepId}.outputs`)))
          : workflow.steps.filter((step) => operationOf(workflows, step) === operation && step.onSuccess?.some((action) => action.type === "end")).length > 1;
      return endsOnLastPage && readsNext;
    });
    expect(followers.map((workflow) => workflow.workflowId)).not.toEqual([]);
  });
});
