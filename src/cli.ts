#!/usr/bin/env node
/**
 * `cloud-contracts`: the command line over this package. Exit codes: 0 ok, 1 violations,
 * 2 bad input (unknown command or flag).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { APIS } from "./apis.js";

const HELP = `Usage: cloud-contracts <command> [options]

Contract-first OpenAPI 3.1 descriptions of cloud-management APIs.

Commands:
  apis [--json]   List the APIs this package describes: id, name, mock port.

Options:
  -h, --help      Show this help (also: cloud-contracts <command> --help).
  -v, --version   Print the package version.
`;

const COMMAND_HELP: Record<string, string> = {
  apis: `Usage: cloud-contracts apis [--json]

List the APIs this package describes, with the id to use in imports
("cloud-api-contracts/<id>") and the port of their mock in "npm start".

Options:
  --json       Print JSON instead of a table.
  -h, --help   Show this help.
`,
};

function run(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === "-v" || command === "--version") {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (command === "apis") {
    const { values } = parseArgs({ args: rest, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      process.stdout.write(COMMAND_HELP.apis!);
      return 0;
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(APIS, null, 2)}\n`);
    } else {
      for (const api of APIS) process.stdout.write(`${api.id.padEnd(14)}${api.title.padEnd(44)}mock port ${api.mockPort}\n`);
    }
    return 0;
  }
  throw new UsageError(`Unknown command "${command}".`);
}

class UsageError extends Error {}

try {
  process.exitCode = run(process.argv.slice(2));
} catch (error) {
  // parseArgs reports unknown flags with a TypeError carrying an ERR_PARSE_ARGS_* code.
  const isUsage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  if (!isUsage) throw error;
  process.stderr.write(`cloud-contracts: ${(error as Error).message}\nRun "cloud-contracts --help" for usage.\n`);
  process.exitCode = 2;
}
