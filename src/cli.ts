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
    summary: "Check recorded exchanges and HAR files against the contracts, with coverage.",
    help: `Usage: cloud-contracts verify <dir|file>... [--api <id>] [--host <host>=<id>]... [--strict]
                              [--format text|json|junit] [--out <file>] [--allow-empty]

Validate recorded exchanges against the bundled contracts: recordings
({ request: { method, path }, response: { status, body } }, one JSON file each) and
HAR 1.2 files (*.har, or JSON with log.entries: browser developer tools, Playwright's
recordHar, mitmproxy, Charles, "cloud-contracts record --format har"). Folders are
searched for *.json and *.har, through symbolic links; anything but a regular file
(a FIFO, a device) is refused.

The API of a recording is --api, else a folder on its path named after an API id,
else the one contract that has an operation for its method and path. The API of a
HAR entry comes from its host: --host, else --api, else the contract whose servers
name that host (app.cloud66.com, cloud.mongodb.com), else a folder named after an API
id. Entries of other hosts, entries outside the API's base path (pages, scripts), CORS
preflights and entries without an answer are skipped and listed, not failed.

At most 100 errors are listed per recording, with a count of the rest. Ends with a
coverage table per API: documented operation x status pairs, which have a recording,
and the percentage.

Options:
  --api <id>          Check every recording (and every HAR entry) against this API.
  --host <host>=<id>  HAR entries of this host (host or host:port) belong to this API;
                      repeatable, e.g. --host panel.example.net=cvm
  --strict            Also fail on properties the contract does not name (drift).
  --format <f>        text (default), json or junit.
  --out <file>        Write the report to a file (atomically) instead of stdout.
  --allow-empty       Exit 0 when there is no recording to check (default: exit 2).
  -h, --help          Show this help.

Exit codes: 0 all valid, 1 contract violations, 2 bad input (unreadable, non-JSON or
too deeply nested file, not a regular file, unknown API, a recording that matches no
operation, no recording to check).
`,
    options: {
      api: { type: "string" }, host: { type: "string", multiple: true }, strict: { type: "boolean" },
      format: { type: "string" }, out: { type: "string" }, "allow-empty": { type: "boolean" },
    },
    async run(values, positionals) {
      if (positionals.length === 0) throw new UsageError("verify: give at least one recording file or folder.");
      const format = (values.format ?? "text") as ReportFormat;
      if (!["text", "json", "junit"].includes(format)) throw new UsageError(`--format: expected text, json or junit, got "${format}".`);
      const hosts: Record<string, string> = {};
      for (const pair of (values.host ?? []) as string[]) {
        const match = /^([^=\s/]+)=([a-z0-9]+)$/i.exec(pair);
        if (!match) throw new UsageError(`--host: expected <host>=<id> (e.g. panel.example.net=cvm), got "${pair}".`);
        hosts[match[1]!.toLowerCase()] = match[2]!;
      }
      let report;
      try {
        report = await verify(positionals, {
          ...(values.api ? { api: values.api as string } : {}),
          hosts,
          strict: Boolean(values.strict),
          allowEmpty: Boolean(values["allow-empty"]),
        });
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const output = formatReport(report, format);
      if (values.out) await writeFileAtomic(values.out as string, output);
      else process.stdout.write(output);
      // Said on stderr too when the report goes elsewhere (a file, or JSON/XML a person does not read).
      if (report.empty && report.exitCode === 2 && (values.out || format !== "text")) {
        process.stderr.write(`cloud-contracts verify: ${report.empty} (--allow-empty to accept)\n`);
      }
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
    help: `Usage: cloud-contracts record --api <id> --target <url> --out <dir|file.har> [--format recordings|har]
                              [--port <n>] [--upstream-timeout <ms>] [--max-body-bytes <n>]

Start a recording proxy on 127.0.0.1: point a client or curl at it instead of the real
API, it forwards every request to --target and writes each exchange to --out: one
recording per exchange in a folder (the default), or one HAR 1.2 file with --format har.
"verify" reads both.

Every secret is redacted before anything touches disk: MC-Api-Key, Authorization
(bearer, basic, digest), API-Public-Token, API-Private-Token, cookies; any header, query
or form parameter, JSON field, or name in a text body (name=value, "name": "value",
name: value, <name>value</name>, <input name=... value=...>) named like a secret (with
key, token, secret, passw, passphrase, credential, private, signature or session id in
it, or the word auth, authorization, pwd, pass, sig, pin, otp, sid, jwt or cookie); the
value of {"key": "<such a name>", "value": ...} pairs; JSON inside a JSON string; and
every value so found wherever else it is echoed (form values the client sent included).
Each recording is written atomically, so stopping the proxy keeps everything recorded.

Ctrl-C stops at once: exchanges still under way are cut off and not recorded.

Options:
  --api <id>              API the recordings belong to (see "cloud-contracts apis").
  --target <url>          Real base URL to forward to, e.g. https://app.cloud66.com
  --out <path>            Folder for the recordings (created if missing), or with
                          --format har the HAR file (continued if it exists).
  --format <f>            recordings (default) or har.
  --port <n>              Port to listen on (default: any free port).
  --upstream-timeout <ms> Longest an exchange may take upstream, to the end of its
                          answer (default 120000); then 504 and not recorded.
  --max-body-bytes <n>    Largest body held for a recording, decoded size included
                          (default 33554432, 32 MiB); a larger request is refused (413),
                          a larger answer forwarded but not recorded.
  -h, --help              Show this help.
`,
    options: {
      api: { type: "string" }, target: { type: "string" }, out: { type: "string" }, format: { type: "string" },
      port: { type: "string" }, "upstream-timeout": { type: "string" }, "max-body-bytes": { type: "string" },
    },
    async run(values) {
      for (const flag of ["api", "target", "out"]) if (typeof values[flag] !== "string") throw new UsageError(`record: --${flag} is required.`);
      const format = (values.format ?? "recordings") as string;
      if (format !== "recordings" && format !== "har") throw new UsageError(`--format: expected recordings or har, got "${format}".`);
      const port = values.port === undefined ? 0 : Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: "${String(values.port)}" is not a port number.`);
      const positiveInteger = (flag: string) => {
        const value = values[flag];
        if (value === undefined) return undefined;
        const number = Number(value);
        if (!Number.isSafeInteger(number) || number <= 0) throw new UsageError(`--${flag}: expected a positive whole number, got "${String(value)}".`);
        return number;
      };
      const upstreamTimeoutMs = positiveInteger("upstream-timeout");
      const maxBodyBytes = positiveInteger("max-body-bytes");
      let proxy;
      try {
        proxy = await startRecordingProxy({
          api: values.api as string,
          target: values.target as string,
          ...(format === "har" ? { harFile: values.out as string } : { outDir: values.out as string }),
          port,
          ...(upstreamTimeoutMs !== undefined ? { upstreamTimeoutMs } : {}),
          ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
          onRecord: (file, entry) => process.stdout.write(`recorded ${file}${entry === undefined ? "" : ` (entry ${entry})`}\n`),
        });
      } catch (error) {
        throw new UsageError(`record: ${(error as Error).message}`);
      }
      process.stdout.write(`Recording ${String(values.api)} exchanges: send requests to ${proxy.url} (forwarded to ${String(values.target)}). Ctrl-C stops.\n`);
      await new Promise<void>((resolve) => {
        for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
      });
      // Stops now, not when the upstream finishes an answer that may never end.
      await proxy.close({ abort: true });
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
