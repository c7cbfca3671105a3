#!/usr/bin/env node
/**
 * `cloud-contracts`: the command line over this package. Exit codes: 0 ok, 1 violations,
 * 2 bad input (unknown command, flag or API; unreadable files).
 */
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { APIS } from "./apis.js";
import { writeFileAtomic } from "./atomic.js";
import { generate } from "./generate.js";
import { MOCK_HELP, MOCK_OPTIONS, runMock } from "./mock/command.js";
import { startRecordingProxy } from "./record/proxy.js";
import { formatReport, type ReportFormat } from "./verify/format.js";
import { verify } from "./verify/index.js";

class UsageError extends Error {}

interface Command {
  summary: string;
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  apis: {
    summary: "List the APIs this package describes: id, name, mock port.",
    help: `Usage: cloud-contracts apis [--json]

List the APIs this package describes, with the id to use in imports
("cloud-api-contracts/<id>") and the port of their mock in "npm start".

Options:
  --json       Print JSON instead of a table.
  -h, --help   Show this help.
`,
    options: { json: { type: "boolean" } },
    async run(values) {
      if (values.json) process.stdout.write(`${JSON.stringify(APIS, null, 2)}\n`);
      else for (const api of APIS) process.stdout.write(`${api.id.padEnd(14)}${api.title.padEnd(44)}mock port ${api.mockPort}\n`);
      return 0;
    },
  },
  verify: {
    summary: "Check recorded exchanges against the contracts, with coverage.",
    help: `Usage: cloud-contracts verify <dir|file>... [--api <id>] [--strict] [--format text|json|junit] [--out <file>]

Validate recorded exchanges ({ request: { method, path }, response: { status, body } },
one JSON file each) against the bundled contracts. Folders are searched for *.json.
The API of a recording is --api, else a folder on its path named after an API id,
else the one contract that has an operation for its method and path.

Ends with a coverage table per API: documented operation x status pairs, which have
a recording, and the percentage.

Options:
  --api <id>       Check every recording against this API.
  --strict         Also fail on properties the contract does not name (drift).
  --format <f>     text (default), json or junit.
  --out <file>     Write the report to a file (atomically) instead of stdout.
  -h, --help       Show this help.

Exit codes: 0 all valid, 1 contract violations, 2 bad input (unreadable or non-JSON
file, unknown API, a recording that matches no operation).
`,
    options: { api: { type: "string" }, strict: { type: "boolean" }, format: { type: "string" }, out: { type: "string" } },
    async run(values, positionals) {
      if (positionals.length === 0) throw new UsageError("verify: give at least one recording file or folder.");
      const format = (values.format ?? "text") as ReportFormat;
      if (!["text", "json", "junit"].includes(format)) throw new UsageError(`--format: expected text, json or junit, got "${format}".`);
      let report;
      try {
        report = await verify(positionals, { ...(values.api ? { api: values.api as string } : {}), strict: Boolean(values.strict) });
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const output = formatReport(report, format);
      if (values.out) await writeFileAtomic(values.out as string, output);
      else process.stdout.write(output);
      return report.exitCode;
    },
  },
  generate: {
    summary: "Write an API's bundled contract and fresh TypeScript types into your repository.",
    help: `Usage: cloud-contracts generate --api <id> --out <dir> [--force]

Write <dir>/openapi.json (the bundled contract) and <dir>/schema.d.ts (types generated
now with openapi-typescript, which needs TypeScript installed), plus a small manifest
(.cloud-api-contracts.json) of what was written. Refuses to overwrite a file it did not
write, or one changed since, unless --force; in that case nothing is written.

Options:
  --api <id>     API to generate (see "cloud-contracts apis").
  --out <dir>    Folder to write into (created if missing).
  --force        Overwrite files this command did not write.
  -h, --help     Show this help.
`,
    options: { api: { type: "string" }, out: { type: "string" }, force: { type: "boolean" } },
    async run(values) {
      for (const flag of ["api", "out"]) if (typeof values[flag] !== "string") throw new UsageError(`generate: --${flag} is required.`);
      let written;
      try {
        written = await generate({ api: values.api as string, outDir: values.out as string, force: Boolean(values.force) });
      } catch (error) {
        throw new UsageError(`generate: ${(error as Error).message}`);
      }
      for (const file of written) process.stdout.write(`wrote ${file}\n`);
      return 0;
    },
  },
  record: {
    summary: "Record real exchanges through a local proxy, secrets redacted.",
    help: `Usage: cloud-contracts record --api <id> --target <url> --out <dir> [--port <n>]

Start a recording proxy on 127.0.0.1: point a client or curl at it instead of the real
API, it forwards every request to --target and writes each exchange to --out as one
recording (the format "verify" reads). Every secret is redacted before anything touches
disk: MC-Api-Key, Authorization (bearer, basic, digest), API-Public-Token,
API-Private-Token, cookies, and any query parameter or JSON field named like a key,
token, secret or password. Each recording is written atomically, so stopping the proxy
(Ctrl-C) keeps everything already recorded.

Options:
  --api <id>       API the recordings belong to (see "cloud-contracts apis").
  --target <url>   Real base URL to forward to, e.g. https://app.cloud66.com
  --out <dir>      Folder for the recordings (created if missing).
  --port <n>       Port to listen on (default: any free port).
  -h, --help       Show this help.
`,
    options: { api: { type: "string" }, target: { type: "string" }, out: { type: "string" }, port: { type: "string" } },
    async run(values) {
      for (const flag of ["api", "target", "out"]) if (typeof values[flag] !== "string") throw new UsageError(`record: --${flag} is required.`);
      const port = values.port === undefined ? 0 : Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: "${String(values.port)}" is not a port number.`);
      let proxy;
      try {
        proxy = await startRecordingProxy({
          api: values.api as string,
          target: values.target as string,
          outDir: values.out as string,
          port,
          onRecord: (file) => process.stdout.write(`recorded ${file}\n`),
        });
      } catch (error) {
        throw new UsageError(`record: ${(error as Error).message}`);
      }
      process.stdout.write(`Recording ${String(values.api)} exchanges: send requests to ${proxy.url} (forwarded to ${String(values.target)}). Ctrl-C stops.\n`);
      await new Promise<void>((resolve) => {
        for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
      });
      await proxy.close();
      return 0;
    },
  },
  mock: {
    summary: "Serve the mocks of the contracts (all, or the ids given), until Ctrl-C.",
    help: MOCK_HELP,
    options: MOCK_OPTIONS,
    run: (values, positionals) => runMock(values as { port?: string[]; host?: string }, positionals),
  },
};

const HELP = `Usage: cloud-contracts <command> [options]

Contract-first OpenAPI 3.1 descriptions of cloud-management APIs.

Commands:
${Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(10)}${command.summary}`).join("\n")}

Options:
  -h, --help      Show this help (also: cloud-contracts <command> --help).
  -v, --version   Print the package version.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (name === "-v" || name === "--version") {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`Unknown command "${name}".`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { ...command.options, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(command.help);
    return 0;
  }
  return command.run(values, positionals);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // parseArgs reports unknown flags with a TypeError carrying an ERR_PARSE_ARGS_* code.
    const isUsage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    if (!isUsage) throw error;
    process.stderr.write(`cloud-contracts: ${(error as Error).message}\nRun "cloud-contracts --help" for usage.\n`);
    process.exitCode = 2;
  },
);
