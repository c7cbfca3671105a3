/** Renders a verify report as text for people, JSON for tools, or JUnit XML for CI dashboards. */
import { relative } from "node:path";
import type { ApiCoverage, FileResult, SkippedEntry, VerifyReport } from "./index.js";

export type ReportFormat = "text" | "json" | "junit";

const shown = (file: string) => relative(process.cwd(), file) || file;
/** The file, and for a HAR file the entry: `session.har entry 12`. */
const where = (r: { file: string; entry?: number }) => (r.entry === undefined ? shown(r.file) : `${shown(r.file)} entry ${r.entry}`);
const what = (r: FileResult) => [r.operationId, r.method?.toUpperCase(), r.path, r.status].filter((part) => part !== undefined).join(" ");
const more = (r: FileResult) => (r.moreErrors ? [`… and ${r.moreErrors.toLocaleString("en-US")} more error${r.moreErrors === 1 ? "" : "s"}`] : []);

export function formatReport(report: VerifyReport, format: ReportFormat): string {
  if (format === "json") {
    const { exitCode, results, skipped, coverage, empty } = report;
    return `${JSON.stringify({ exitCode, ...(empty ? { empty } : {}), results, skipped, coverage }, null, 2)}\n`;
  }
  if (format === "junit") return junit(report);
  return text(report);
}

function text(report: VerifyReport): string {
  const lines: string[] = [];
  for (const r of report.results) {
    if (r.problem) lines.push(`ERROR ${where(r)}: ${r.message}`);
    else if (!r.valid) {
      lines.push(`FAIL  ${where(r)}  ${what(r)}`);
      for (const line of [...r.errors.map((error) => `${error.path}: ${error.message}`), ...more(r)]) lines.push(`      ${line}`);
    }
  }
  if (report.skipped.length > 0) lines.push(...skippedSummary(report.skipped));
  if (report.empty) lines.push(`ERROR ${report.empty}${report.exitCode === 2 ? " (--allow-empty to accept)" : ""}`);
  const checked = report.results.filter((r) => !r.problem);
  const failed = checked.filter((r) => !r.valid).length;
  const bad = report.results.length - checked.length;
  const hars = report.results.some((r) => r.entry !== undefined) || report.skipped.length > 0;
  if (lines.length > 0) lines.push("");
  lines.push(
    `${checked.length - failed} valid, ${failed} violating, ${bad} unreadable or unmatched (${report.results.length} ${hars ? "recordings and HAR entries" : "files"}` +
      `${report.skipped.length > 0 ? `; ${report.skipped.length} HAR entr${report.skipped.length === 1 ? "y" : "ies"} skipped` : ""})`,
  );
  for (const coverage of report.coverage) lines.push("", ...coverageTable(coverage));
  return `${lines.join("\n")}\n`;
}

/** Skipped HAR entries, one line per file and reason, with the count and the first few entries. */
function skippedSummary(skipped: readonly SkippedEntry[]): string[] {
  const groups = new Map<string, SkippedEntry[]>();
  for (const entry of skipped) {
    const key = `${shown(entry.file)}\u0000${entry.reason}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return [...groups.values()].map((entries) => {
    const first = entries[0]!;
    const indexes = entries.slice(0, 10).map((entry) => entry.entry).join(", ") + (entries.length > 10 ? ", …" : "");
    return `SKIP  ${shown(first.file)}: ${entries.length} entr${entries.length === 1 ? "y" : "ies"} (${indexes}): ${first.reason}`;
  });
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

/**
 * Text as XML 1.0 character data or attribute value, for any input. Markup characters become
 * entities; characters XML 1.0 cannot carry at all (controls other than tab, newline and
 * carriage return; unpaired surrogates; U+FFFE, U+FFFF) become a visible `\u0001`, since no
 * escape of them is well-formed. In attributes, tab and line breaks become character references,
 * or a parser would turn them into spaces.
 */
function xml(text: string, { attribute = false } = {}): string {
  return text.replace(/[<>&"'\t\n\r]|[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, (c) => {
    switch (c) {
      case "<": return "&lt;";
      case ">": return "&gt;";
      case "&": return "&amp;";
      case '"': return "&quot;";
      case "'": return "&apos;";
      case "\t": case "\n": case "\r": return attribute ? `&#${c.charCodeAt(0)};` : c;
      default: return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
  });
}
const attr = (text: string) => xml(text, { attribute: true });

function junit(report: VerifyReport): string {
  const suites = new Map<string, string[]>();
  const counts = new Map<string, { tests: number; failures: number; errors: number; skipped: number }>();
  const add = (suite: string, testcase: string, kind: "ok" | "failure" | "error" | "skipped") => {
    suites.set(suite, [...(suites.get(suite) ?? []), testcase]);
    const count = counts.get(suite) ?? { tests: 0, failures: 0, errors: 0, skipped: 0 };
    count.tests++;
    if (kind === "failure") count.failures++;
    else if (kind === "error") count.errors++;
    else if (kind === "skipped") count.skipped++;
    counts.set(suite, count);
  };
  for (const r of report.results) {
    const suite = r.api ?? "unmatched";
    const open = `    <testcase classname="${attr(suite)}" name="${attr(where(r))}">`;
    if (r.problem) add(suite, `${open}<error message="${attr(r.message ?? r.problem)}"/></testcase>`, "error");
    else if (!r.valid) {
      const details = [...r.errors.map((e) => `${e.path}: ${e.message}`), ...more(r)].join("\n");
      add(suite, `${open}<failure message="${attr(what(r))}">${xml(details)}</failure></testcase>`, "failure");
    } else add(suite, `${open}</testcase>`, "ok");
  }
  for (const s of report.skipped) {
    add("skipped", `    <testcase classname="skipped" name="${attr(where(s))}"><skipped message="${attr(s.reason)}"/></testcase>`, "skipped");
  }
  if (report.empty && report.exitCode === 2) add("verify", `    <testcase classname="verify" name="recordings"><error message="${attr(report.empty)}"/></testcase>`, "error");
  const body = [...suites].map(([suite, cases]) => {
    const { tests, failures, errors, skipped } = counts.get(suite)!;
    const skips = skipped > 0 ? ` skipped="${skipped}"` : "";
    return `  <testsuite name="${attr(suite)}" tests="${tests}" failures="${failures}" errors="${errors}"${skips}>\n${cases.join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${body.join("\n")}\n</testsuites>\n`;
}
