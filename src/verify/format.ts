/** Renders a verify report as text for people, JSON for tools, or JUnit XML for CI dashboards. */
import { relative } from "node:path";
import type { ApiCoverage, FileResult, VerifyReport } from "./index.js";

export type ReportFormat = "text" | "json" | "junit";

const shown = (file: string) => relative(process.cwd(), file) || file;
const what = (r: FileResult) => [r.operationId, r.method?.toUpperCase(), r.path, r.status].filter((part) => part !== undefined).join(" ");

export function formatReport(report: VerifyReport, format: ReportFormat): string {
  if (format === "json") return `${JSON.stringify({ exitCode: report.exitCode, results: report.results, coverage: report.coverage }, null, 2)}\n`;
  if (format === "junit") return junit(report);
  return text(report);
}

function text(report: VerifyReport): string {
  const lines: string[] = [];
  for (const r of report.results) {
    if (r.problem) lines.push(`ERROR ${shown(r.file)}: ${r.message}`);
    else if (!r.valid) {
      lines.push(`FAIL  ${shown(r.file)}  ${what(r)}`);
      for (const error of r.errors) lines.push(`      ${error.path}: ${error.message}`);
    }
  }
  const checked = report.results.filter((r) => !r.problem);
  const failed = checked.filter((r) => !r.valid).length;
  const bad = report.results.length - checked.length;
  if (lines.length > 0) lines.push("");
  lines.push(`${checked.length - failed} valid, ${failed} violating, ${bad} unreadable or unmatched (${report.results.length} files)`);
  for (const coverage of report.coverage) lines.push("", ...coverageTable(coverage));
  return `${lines.join("\n")}\n`;
}

/** One row per operation: its documented statuses, each ✓ (recorded) or · (not recorded). */
export function coverageTable(coverage: ApiCoverage): string[] {
  const rows = coverage.operations.map((op) => [
    op.operationId,
    `${op.method.toUpperCase()} ${op.pathTemplate}`,
    op.statuses.map((s) => `${s.status}${s.recordings > 0 ? "✓" : "·"}`).join(" "),
  ]);
  const widths = [0, 1].map((column) => Math.min(60, Math.max(...rows.map((row) => row[column]!.length), 9)));
  return [
    `coverage ${coverage.api}: ${coverage.covered} of ${coverage.total} documented operation × status pairs recorded (${coverage.percent}%)`,
    ...rows.map((row) => `  ${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]}`),
  ];
}

const xml = (text: string) => text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

function junit(report: VerifyReport): string {
  const suites = new Map<string, FileResult[]>();
  for (const r of report.results) suites.set(r.api ?? "unmatched", [...(suites.get(r.api ?? "unmatched") ?? []), r]);
  const body = [...suites].map(([api, results]) => {
    const failures = results.filter((r) => !r.valid && !r.problem).length;
    const errors = results.filter((r) => r.problem).length;
    const cases = results.map((r) => {
      const open = `    <testcase classname="${xml(api)}" name="${xml(shown(r.file))}">`;
      if (r.problem) return `${open}<error message="${xml(r.message ?? r.problem)}"/></testcase>`;
      if (!r.valid) return `${open}<failure message="${xml(what(r))}">${xml(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"))}</failure></testcase>`;
      return `${open}</testcase>`;
    });
    return `  <testsuite name="${xml(api)}" tests="${results.length}" failures="${failures}" errors="${errors}">\n${cases.join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${body.join("\n")}\n</testsuites>\n`;
}
