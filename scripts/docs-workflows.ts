/**
 * An API's workflows page on the docs site (`docs-site/<id>.workflows.html`), rendered from its
 * bundled Arazzo file: each workflow as a readable list of steps, each step with its operation
 * (method, path, and a link to it in the API's reference), its inputs (parameters, request body),
 * its success criteria, what happens on success or failure (retries, jumps), and its outputs.
 */
import { resolveRef, stepOperation, workflowInputs, type ArazzoAction, type ArazzoCriterion, type ArazzoDocument, type ArazzoParameter, type ArazzoStep, type ArazzoWorkflow } from "./arazzo.ts";

export const workflowsPageName = (id: string) => `${id}.workflows.html`;
export const workflowsCopyName = (id: string) => `${id}.workflows.arazzo.yaml`;

/** The part of a bundled contract the page needs. */
interface Contract {
  paths?: Record<string, Record<string, unknown>>;
}

interface OperationInfo {
  method: string;
  path: string;
  summary?: string;
  /** Where the API's reference page shows it (`#/<tag>/<operationid>`, as Redoc's menu links it). */
  anchor: string;
  hasBody: boolean;
}

export function renderWorkflowsPage(id: string, workflows: ArazzoDocument, contract: Contract): string {
  const operations = indexOperations(contract);
  const title = workflows.info.title;
  const toc = workflows.workflows.map((workflow) => `      <li><a href="#${workflowAnchor(workflow.workflowId)}">${escapeHtml(workflow.summary ?? workflow.workflowId)}</a> <code>${escapeHtml(workflow.workflowId)}</code></li>`);
  const sections = workflows.workflows.map((workflow) => renderWorkflow(id, workflows, workflow, operations));
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} — cloud-api-contracts</title>
  <link rel="icon" href="data:,">
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto 3rem; max-width: 64rem; padding: 0 1rem; color: #1f2328; }
    nav.back { padding: .5rem 0; font-size: 14px; border-bottom: 1px solid #d0d7de; }
    a { color: #0969da; }
    code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa; border-radius: 4px; }
    code { padding: 0 .25rem; }
    pre { padding: .5rem; overflow-x: auto; margin: .25rem 0; }
    section.workflow { border-top: 1px solid #d0d7de; margin-top: 2rem; }
    table { border-collapse: collapse; margin: .5rem 0; }
    th, td { text-align: left; padding: .2rem .8rem .2rem 0; vertical-align: top; }
    ol.steps > li { margin: 0 0 1.2rem; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .3rem 0; }
    dt { color: #59636e; }
    dd { margin: 0; }
    dd ul { margin: 0; padding-left: 1.2rem; }
    .method { font-weight: 600; text-transform: uppercase; }
  </style>
</head>
<body>
  <nav class="back"><a href="index.html" id="back-to-index">← All APIs (cloud-api-contracts)</a> · <a href="${id}.html" id="to-reference">API reference</a></nav>
  <h1>${escapeHtml(title)}</h1>
  ${workflows.info.summary ? `<p>${inlineMarkdown(workflows.info.summary)}</p>` : ""}
  ${markdown(workflows.info.description ?? "")}
  <p>The Arazzo ${escapeHtml(workflows.arazzo)} file: <a href="${workflowsCopyName(id)}" id="workflows-file">${workflowsCopyName(id)}</a>
  (in the package: <code>cloud-api-contracts/workflows/${id}.yaml</code>). Run it with
  <code>npx redocly respect</code>; see the README's "Workflows" section.</p>
  <nav class="toc">
    <ol>
${toc.join("\n")}
    </ol>
  </nav>
${sections.join("\n")}
</body>
</html>
`;
}

function renderWorkflow(id: string, document: ArazzoDocument, workflow: ArazzoWorkflow, operations: Map<string, OperationInfo>): string {
  const inputs = workflowInputs(document, workflow);
  const required = new Set(inputs.required ?? []);
  const rows: string[] = [];
  for (const [name, schema] of Object.entries(inputs.properties ?? {})) {
    if (name === "env") {
      for (const [variable, variableSchema] of Object.entries(resolveRef(document, schema).properties ?? {})) {
        rows.push(`<tr><th scope="row"><code>$${escapeHtml(variable)}</code></th><td>environment${variableSchema.format === "password" ? ", secret" : ""}</td><td></td><td>${inlineMarkdown(variableSchema.description ?? "")}</td></tr>`);
      }
      continue;
    }
    const type = [schema.type].flat().filter(Boolean).join(" | ") + (required.has(name) ? ", required" : "");
    const fallback = schema.default === undefined ? "" : `<code>${escapeHtml(JSON.stringify(schema.default))}</code>`;
    rows.push(`<tr><th scope="row"><code>${escapeHtml(name)}</code></th><td>${escapeHtml(type)}</td><td>${fallback}</td><td>${inlineMarkdown(schema.description ?? "")}</td></tr>`);
  }
  const steps = workflow.steps.map((step) => renderStep(id, document, workflow, step, operations));
  const outputs = Object.entries(workflow.outputs ?? {});
  return `  <section class="workflow" id="${workflowAnchor(workflow.workflowId)}" data-workflow="${escapeHtml(workflow.workflowId)}">
    <h2>${escapeHtml(workflow.summary ?? workflow.workflowId)} <code>${escapeHtml(workflow.workflowId)}</code></h2>
    ${markdown(workflow.description ?? "")}
    ${rows.length > 0 ? `<h3>Inputs</h3>
    <table class="inputs"><thead><tr><th>Name</th><th>Type</th><th>Default</th><th>Description</th></tr></thead><tbody>
      ${rows.join("\n      ")}
    </tbody></table>` : ""}
    <h3>Steps</h3>
    <ol class="steps">
${steps.join("\n")}
    </ol>
    ${outputs.length > 0 ? `<h3>Outputs</h3>\n    ${definitions(outputs.map(([name, value]) => [name, `<code>${escapeHtml(value)}</code>`]))}` : ""}
  </section>`;
}

function renderStep(id: string, document: ArazzoDocument, workflow: ArazzoWorkflow, step: ArazzoStep, operations: Map<string, OperationInfo>): string {
  const rows: [string, string][] = [];
  const target = stepOperation(document, step);
  const operation = target && operations.get(target.operationId);
  if (target) {
    rows.push([
      "Operation",
      operation
        ? `<span class="method">${operation.method}</span> <code>${escapeHtml(operation.path)}</code> — <a href="${id}.html${operation.anchor}">${escapeHtml(target.operationId)}</a>${operation.summary ? ` (${escapeHtml(operation.summary)})` : ""}`
        : `<code>${escapeHtml(target.operationId)}</code> (not in the contract)`,
    ]);
  } else if (step.workflowId) {
    rows.push(["Runs", `the workflow <a href="#${workflowAnchor(step.workflowId)}"><code>${escapeHtml(step.workflowId)}</code></a>`]);
  }
  const parameters = (step.parameters ?? []).map((parameter) => describeParameter(document, parameter));
  if (parameters.length > 0) rows.push([step.workflowId ? "With" : "Parameters", list(parameters)]);
  if (step.requestBody) {
    rows.push(["Body", `${step.requestBody.contentType ? `<code>${escapeHtml(step.requestBody.contentType)}</code>` : ""}<pre>${escapeHtml(JSON.stringify(step.requestBody.payload, null, 2))}</pre>`]);
  } else if (operation?.hasBody) {
    rows.push(["Body", "the contract's request example"]);
  }
  if (step.successCriteria?.length) rows.push(["Succeeds when", list(step.successCriteria.map(describeCriterion))]);
  if (step.onSuccess?.length) rows.push(["On success", list(step.onSuccess.map((action) => describeAction(document, workflow, action)))]);
  if (step.onFailure?.length) rows.push(["On failure", list(step.onFailure.map((action) => describeAction(document, workflow, action)))]);
  const outputs = Object.entries(step.outputs ?? {});
  if (outputs.length > 0) rows.push(["Outputs", list(outputs.map(([name, value]) => `<code>${escapeHtml(name)}</code> ← <code>${escapeHtml(value)}</code>`))]);
  return `      <li id="${workflowAnchor(workflow.workflowId)}-${escapeHtml(step.stepId)}" data-step="${escapeHtml(step.stepId)}">
        <strong>${escapeHtml(step.stepId)}</strong>${step.description ? ` — ${inlineMarkdown(step.description)}` : ""}
        ${definitions(rows)}
      </li>`;
}

function describeParameter(document: ArazzoDocument, parameter: ArazzoParameter): string {
  const resolved = parameter.reference ? { ...resolveReusable(document, parameter.reference), ...withoutReference(parameter) } : parameter;
  const where = resolved.in ? ` (${escapeHtml(resolved.in)})` : "";
  return `<code>${escapeHtml(resolved.name ?? "?")}</code>${where} = <code>${escapeHtml(typeof resolved.value === "string" ? resolved.value : JSON.stringify(resolved.value))}</code>`;
}

/** `$components.parameters.apiKey` → the reusable parameter it names. */
function resolveReusable(document: ArazzoDocument, reference: string): ArazzoParameter {
  const name = /^\$components\.parameters\.(.+)$/.exec(reference)?.[1];
  return (name && document.components?.parameters?.[name]) || { name: reference };
}

function withoutReference({ reference: _reference, ...rest }: ArazzoParameter): ArazzoParameter {
  return rest;
}

function describeCriterion(criterion: ArazzoCriterion): string {
  const context = criterion.context ? ` in <code>${escapeHtml(criterion.context)}</code>` : "";
  const type = criterion.type && criterion.type !== "simple" ? ` (${escapeHtml(criterion.type)})` : "";
  return `<code>${escapeHtml(criterion.condition)}</code>${context}${type}`;
}

function describeAction(document: ArazzoDocument, workflow: ArazzoWorkflow, action: ArazzoAction): string {
  const when = action.criteria?.length ? ` when ${action.criteria.map(describeCriterion).join(" and ")}` : "";
  if (action.type === "end") return `end the workflow${when}`;
  if (action.type === "retry") {
    const every = action.retryAfter === undefined ? "" : ` after ${action.retryAfter} s`;
    const limit = action.retryLimit === undefined ? "" : `, up to ${action.retryLimit} times`;
    return `retry the step${every}${limit}${when}`;
  }
  const target = action.stepId
    ? `step <a href="#${workflowAnchor(workflow.workflowId)}-${escapeHtml(action.stepId)}"><code>${escapeHtml(action.stepId)}</code></a>`
    : `workflow <a href="#${workflowAnchor(action.workflowId ?? "")}"><code>${escapeHtml(action.workflowId ?? "")}</code></a>`;
  return `go to ${target}${when}`;
}

const workflowAnchor = (workflowId: string) => `workflow-${escapeHtml(workflowId)}`;

const definitions = (rows: [string, string][]) => `<dl>${rows.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join("")}</dl>`;

const list = (items: string[]) => (items.length === 1 ? items[0]! : `<ul>${items.map((item) => `<li>${item}</li>`).join("")}</ul>`);

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** operationId → method, path, summary and anchor in the API's reference page. */
function indexOperations(contract: Contract): Map<string, OperationInfo> {
  const operations = new Map<string, OperationInfo>();
  for (const [path, item] of Object.entries(contract.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = (item as Record<string, { operationId?: string; summary?: string; tags?: string[]; requestBody?: unknown } | undefined>)[method];
      if (!operation?.operationId) continue;
      const tag = (operation.tags?.[0] ?? "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
      operations.set(operation.operationId, {
        method: method.toUpperCase(),
        path,
        summary: operation.summary,
        anchor: `#/${tag}/${operation.operationId.toLowerCase()}`,
        hasBody: operation.requestBody !== undefined,
      });
    }
  }
  return operations;
}

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * The Markdown the workflow descriptions use: paragraphs, `- ` lists and `code`. Written here
 * rather than taken from a Markdown library because the project depends on none and these three
 * forms are all the Arazzo files need.
 */
function markdown(text: string): string {
  return text
    .trim()
    .split(/\n\s*\n/)
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n").map((line) => line.trim());
      if (lines.every((line) => line.startsWith("- "))) return `<ul>${lines.map((line) => `<li>${inlineMarkdown(line.slice(2))}</li>`).join("")}</ul>`;
      return `<p>${inlineMarkdown(lines.join(" "))}</p>`;
    })
    .join("\n    ");
}

function inlineMarkdown(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith("`") && part.endsWith("`") && part.length > 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : escapeHtml(part)))
    .join("");
}
