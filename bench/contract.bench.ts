/**
 * `npm run bench`: how fast the contract checker validates recorded responses, against the usual
 * alternatives and the practical limit, and how fast it starts. See bench/README.md.
 *
 *   (a) checker         loadContract() (precompiled validators), validateResponse(method, path, status, body)
 *   (b) ORV per response openapi-response-validator built anew for each response, as jest-openapi does
 *   (c) ORV reused       openapi-response-validator built once per operation and status, then reused
 *   (d) bare Ajv         the response schema's Ajv function, compiled in-process, called on the body
 *                        with the operation already known
 *   cold start           a fresh `node`: import dist/contract/index.js, load all five contracts,
 *                        validate one recording each (median of several runs)
 *
 * Exits 1 when a target is missed: (a) ÷ (b) ≥ 100, (d) ÷ (a) ≤ 1.5, cold start ≤ 300 ms.
 */
import { execFile } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import OpenAPIResponseValidatorModule from "openapi-response-validator";
import { APIS, type ApiId } from "../src/apis.ts";
import { createAjv, responseSchema } from "../src/contract/ajv.ts";
import { findResponse, jsonMediaType, responseSchemaPointer, type OpenApiDocument } from "../src/contract/document.ts";
import { loadContract, type Contract, type RecordedResponse } from "../src/contract/index.ts";
import { brokenCopies } from "../test/support/broken.ts";
import { asResponse, readRecordings } from "../test/support/recordings.ts";

const TARGETS = { vsPerResponse: 100, bareOverChecker: 1.5, coldStartMs: 300 };
const WARMUP_ROUNDS = 12;
const ROUNDS = 20;
const SAMPLE_MS = 250;
const COLD_RUNS = 9;
const PAIRS = 4_000;

type OpenApiResponseValidator = import("openapi-response-validator").default;
const OpenAPIResponseValidator = ((OpenAPIResponseValidatorModule as unknown as { default?: unknown }).default ??
  OpenAPIResponseValidatorModule) as typeof import("openapi-response-validator").default;
type OrvArgs = ConstructorParameters<typeof OpenAPIResponseValidator>[0];

interface Exchange extends RecordedResponse {
  api: ApiId;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const IDS = APIS.map((api) => api.id);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

interface Measurement {
  name: string;
  exchanges: readonly Exchange[];
  /** Validates every exchange once; returns how many were valid. */
  pass: () => number;
  rates: number[];
}

/** Runs `measurement.pass` for at least `ms`; returns validations per second. */
function sample(measurement: Measurement, ms: number): number {
  let validations = 0;
  let elapsed = 0;
  const started = performance.now();
  do {
    const valid = measurement.pass();
    if (valid !== measurement.exchanges.length) throw new Error(`${measurement.name}: ${measurement.exchanges.length - valid} recordings judged invalid.`);
    validations += measurement.exchanges.length;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  return (validations / elapsed) * 1000;
}

/**
 * Runs ROUNDS rounds of one SAMPLE_MS sample of each measurement (5 s in all per measurement),
 * interleaved so that a slower or faster spell of this shared machine falls on all of them
 * alike, and every other round in reverse order, so that none always follows the same one
 * (whose garbage it would collect, whose data would have pushed its own out of the caches).
 * First WARMUP_ROUNDS rounds that are not counted (3 s each): V8 optimizes hundreds of validate
 * functions, on a background thread that competes for the two cores.
 */
function measureInterleaved(measurements: Measurement[]): void {
  const rounds = (count: number, record: boolean) => {
    for (let round = 0; round < count; round++) {
      for (const measurement of round % 2 === 0 ? measurements : [...measurements].reverse()) {
        const rate = sample(measurement, SAMPLE_MS);
        if (record) measurement.rates.push(rate);
      }
    }
  };
  rounds(WARMUP_ROUNDS, false);
  rounds(ROUNDS, true);
}

function report(measurement: Measurement): number {
  const rate = median(measurement.rates);
  const spread = (Math.max(...measurement.rates) - Math.min(...measurement.rates)) / rate;
  if (process.env.BENCH_VERBOSE) console.log(measurement.rates.map(fmt).join(" "));
  const fastest = measurement.rates.length > 2 ? `, fastest ${fmt(Math.max(...measurement.rates))}` : "";
  console.log(`${measurement.name.padEnd(50)} ${fmt(rate).padStart(10)} validations/s  (median of ${measurement.rates.length}${fastest}, spread ${(spread * 100).toFixed(0)}%)`);
  return rate;
}

// --- The recordings: every one of every API, in one list. ------------------------------------
const exchanges: Exchange[] = IDS.flatMap((api) => readRecordings(api).map(({ recording }) => ({ api, ...(asResponse(recording) as RecordedResponse) })));
const contracts = new Map<string, Contract>();
for (const id of IDS) contracts.set(id, await loadContract(id));
const contractOf = (exchange: Exchange) => contracts.get(exchange.api)!;
const contractFor = exchanges.map(contractOf);

// --- What openapi-response-validator gets. ------------------------------------------------
// It compiles with Ajv's draft-07 class (strict: false, unknown keywords and formats ignored).
// Of the JSON Schema these documents use, draft-07 lacks only `dependentRequired` (2 uses),
// which becomes the equivalent draft-07 `dependencies`; type arrays, `const`, boolean schemas
// and `if`/`then` are draft-07 already. It gets the same formats as the checker (ajv-formats'
// fullFormats) through its `customFormats`, which takes functions only.
function toDraft07(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toDraft07);
  if (typeof node !== "object" || node === null) return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "dependentRequired" && typeof value === "object" && !("dependencies" in node)) copy.dependencies = toDraft07(value);
    else copy[key] = toDraft07(value);
  }
  return copy;
}
const require = (await import("node:module")).createRequire(import.meta.url);
const fullFormats = require("ajv-formats/dist/formats").fullFormats as Record<string, unknown>;
const customFormats: Record<string, (value: unknown) => boolean> = {};
for (const [name, format] of Object.entries(fullFormats)) {
  const check = typeof format === "object" && format !== null && !(format instanceof RegExp) ? (format as { validate: unknown }).validate : format;
  customFormats[name] =
    check instanceof RegExp ? (value) => check.test(value as string)
    : typeof check === "function" ? (check as (value: unknown) => boolean)
    : () => Boolean(check);
}
const orvDocuments = new Map(IDS.map((id) => [id, toDraft07(contracts.get(id)!.document) as OpenApiDocument]));

/**
 * The lookup jest-openapi does before validating (here with the checker's matcher): the
 * operation, and its response entry for the status.
 */
function lookup(exchange: Exchange) {
  const contract = contractOf(exchange);
  const matched = contract.findOperation(exchange.method, exchange.path)!;
  const found = findResponse(contract.document, matched.operation, exchange.status)!;
  return { key: found.key, cacheKey: `${matched.operation.pointer} ${found.key}`, responsePointer: found.response.pointer };
}

/** What jest-openapi gives the validator: `{ responses: { [key]: response }, components }`. */
function orvArgs(exchange: Exchange, { key, responsePointer }: ReturnType<typeof lookup>): OrvArgs {
  const document = orvDocuments.get(exchange.api)!;
  const response = responsePointer
    .slice(2)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<any>((node, name) => node[name], document);
  return { responses: { [key]: response }, components: document.components, customFormats } as OrvArgs;
}

// openapi-response-validator sets `useDefaults`, which writes defaults into the body: it gets copies.
const orvExchanges = exchanges.map((exchange) => ({ ...exchange, body: structuredClone(exchange.body) }));

// --- The practical limit: the compiled function, the operation known. ----------------------
const bare = exchanges.map((exchange) => {
  const contract = contractOf(exchange);
  const matched = contract.findOperation(exchange.method, exchange.path)!;
  const found = findResponse(contract.document, matched.operation, exchange.status)!;
  const mediaType = jsonMediaType(found.response.value);
  return { body: exchange.body, pointer: mediaType ? responseSchemaPointer(found.response, mediaType) : undefined };
});
const ajvs = new Map(IDS.map((id) => [id, createAjv(id, contracts.get(id)!.document)]));
const bareValidators: (ValidateFunction | undefined)[] = bare.map(({ pointer }, index) =>
  pointer ? ajvs.get(exchanges[index]!.api)!.compile(responseSchema(exchanges[index]!.api, pointer)) : undefined,
);

const load = () => loadavg().map((value) => value.toFixed(2)).join(" ");
console.log(
  `\n${exchanges.length} recordings of ${IDS.length} APIs; Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ` +
    `${new Date().toISOString().slice(0, 10)}; load average ${load()} (other work on the machine skews every figure)\n`,
);

// --- (a), (c), (d), interleaved. Counting Ajv compilations proves (a) runs on precompiled code. ---
const compile = Ajv2020.prototype.compile;
let compilations = 0;
const counting = function (this: Ajv2020, ...args: Parameters<typeof compile>) {
  compilations++;
  return compile.apply(this, args);
} as typeof compile;
const checker: Measurement = {
  name: "(a) checker, precompiled",
  exchanges,
  rates: [],
  pass: () => {
    let valid = 0;
    for (let index = 0; index < exchanges.length; index++) if (contractFor[index]!.validateResponse(exchanges[index]!).valid) valid++;
    return valid;
  },
};
const strict: Measurement = {
  name: "    the same in strict mode (informational)",
  exchanges,
  rates: [],
  pass: () => {
    let valid = 0;
    for (const exchange of exchanges) if (contractOf(exchange).validateResponse(exchange, { strict: true }).valid) valid++;
    return valid;
  },
};
const bareAjv: Measurement = {
  name: "(d) bare Ajv, operation known",
  exchanges,
  rates: [],
  pass: () => {
    let valid = 0;
    for (let index = 0; index < bare.length; index++) {
      const validate = bareValidators[index];
      if (validate === undefined || validate(bare[index]!.body)) valid++;
    }
    return valid;
  },
};
const reused = new Map(IDS.map((id) => [id, new Map<string, OpenApiResponseValidator>()]));
const orvReused: Measurement = {
  name: "(c) openapi-response-validator, reused",
  exchanges: orvExchanges,
  rates: [],
  pass: () => {
    let valid = 0;
    for (const exchange of orvExchanges) {
      const found = lookup(exchange);
      const validators = reused.get(exchange.api)!;
      let validator = validators.get(found.cacheKey);
      if (!validator) validators.set(found.cacheKey, (validator = new OpenAPIResponseValidator(orvArgs(exchange, found))));
      if (validator.validateResponse(exchange.status, exchange.body) === undefined) valid++;
    }
    return valid;
  },
};
Ajv2020.prototype.compile = counting;
// The checker and its limit side by side; then the others, which make more garbage.
measureInterleaved([checker, bareAjv]);
measureInterleaved([orvReused, strict]);
Ajv2020.prototype.compile = compile;
if (compilations > 0) throw new Error(`The checker compiled ${compilations} schemas: generated/*/validators.js missing or stale (npm run build).`);
const checkerRate = report(checker);
report(strict);
const reusedRate = report(orvReused);
report(bareAjv);

/**
 * (d) ÷ (a), the way the host's noise affects least: PAIRS pairs of single passes over all the
 * recordings (about a millisecond each), the checker's and bare Ajv's one right after the other,
 * in alternating order. A slow spell of this shared machine lasts far longer than a pair, so it
 * slows both passes of a pair alike, and the median of the pairs' ratios is left to what the
 * checker adds. (The 250 ms samples above give the throughputs; their ratio swings with the noise.)
 */
function pairedRatio(slow: Measurement, fast: Measurement, pairs: number): number {
  const ratios: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    const first = pair % 2 === 0 ? slow : fast;
    const second = first === slow ? fast : slow;
    const t0 = performance.now();
    first.pass();
    const t1 = performance.now();
    second.pass();
    const t2 = performance.now();
    ratios.push(first === slow ? (t1 - t0) / (t2 - t1) : (t2 - t1) / (t1 - t0));
  }
  return median(ratios);
}
Ajv2020.prototype.compile = counting;
const bareOverChecker = pairedRatio(checker, bareAjv, PAIRS);
Ajv2020.prototype.compile = compile;
if (compilations > 0) throw new Error(`The checker compiled ${compilations} schemas: generated/*/validators.js missing or stale (npm run build).`);
const bareOverCheckerSamples = median(bareAjv.rates.map((rate, round) => rate / checker.rates[round]!));

// --- (b) openapi-response-validator, built for each response (one pass over all is ~6 s). ---
const perResponse: Measurement = {
  name: "(b) openapi-response-validator, per response",
  exchanges: orvExchanges,
  rates: [],
  pass: () => {
    let valid = 0;
    for (const exchange of orvExchanges) {
      const validator = new OpenAPIResponseValidator(orvArgs(exchange, lookup(exchange)));
      if (validator.validateResponse(exchange.status, exchange.body) === undefined) valid++;
    }
    return valid;
  },
};
// One sample is one pass over every recording (some 6 s); two of them.
for (let round = 0; round < 2; round++) perResponse.rates.push(sample(perResponse, 0));
const perResponseRate = report(perResponse);

// --- Does openapi-response-validator judge like the checker? (not timed; after the timing, so
// that no validator has met a broken body before it is timed: V8 would have tuned it to those)
{
  let agree = 0;
  let total = 0;
  const disagreements = new Map<string, number>();
  const validators = new Map<string, OpenApiResponseValidator>();
  for (const exchange of exchanges) {
    const found = lookup(exchange);
    const cacheKey = `${exchange.api} ${found.cacheKey}`;
    let validator = validators.get(cacheKey);
    if (!validator) validators.set(cacheKey, (validator = new OpenAPIResponseValidator(orvArgs(exchange, found))));
    for (const body of [exchange.body, ...brokenCopies(exchange.body)]) {
      const checker = contractOf(exchange).validateResponse({ ...exchange, body }).valid;
      const orv = validator.validateResponse(exchange.status, structuredClone(body)) === undefined;
      total++;
      if (checker === orv) agree++;
      else {
        const key = `${exchange.api}: checker ${checker ? "accepts" : "rejects"}, ORV ${orv ? "accepts" : "rejects"}`;
        disagreements.set(key, (disagreements.get(key) ?? 0) + 1);
      }
    }
  }
  console.log(`openapi-response-validator agrees with the checker on ${agree} of ${total} verdicts (recordings and broken copies)`);
  for (const [key, count] of disagreements) console.log(`  ${key}: ${count}`);
}

// --- Cold start. --------------------------------------------------------------------------
const run = promisify(execFile);
const firstOfEach = IDS.map((id) => exchanges.find((exchange) => exchange.api === id)!);
const CHILD = `
const exchanges = JSON.parse(process.argv[1]);
const started = performance.now();
const { loadContract } = await import(${JSON.stringify(pathToFileURL(`${ROOT}dist/contract/index.js`).href)});
const imported = performance.now();
const contracts = await Promise.all(exchanges.map((exchange) => loadContract(exchange.api)));
const loaded = performance.now();
const valid = exchanges.filter((exchange, index) => contracts[index].validateResponse(exchange).valid).length;
const done = performance.now();
console.log(JSON.stringify({ valid, total: done - started, import: imported - started, load: loaded - imported, validate: done - loaded, sinceProcessStart: done }));
`;
const cold: { valid: number; total: number; import: number; load: number; validate: number; sinceProcessStart: number }[] = [];
for (let index = 0; index < COLD_RUNS; index++) {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", CHILD, JSON.stringify(firstOfEach)], { cwd: ROOT });
  const result = JSON.parse(stdout) as (typeof cold)[number];
  if (result.valid !== firstOfEach.length) throw new Error(`Cold start: ${firstOfEach.length - result.valid} recordings judged invalid.`);
  cold.push(result);
}
const coldMs = median(cold.map((result) => result.total));
const part = (key: keyof (typeof cold)[number]) => median(cold.map((result) => result[key])).toFixed(0);
console.log(
  `${"cold start, import → 5 contracts → 1st validation each".padEnd(44)} ${coldMs.toFixed(0).padStart(12)} ms  (median of ${COLD_RUNS}: import ${part("import")}, load ${part("load")}, validate ${part("validate")}; ${part("sinceProcessStart")} ms since the process started)`,
);

// --- Verdict. ------------------------------------------------------------------------------
const checks = [
  { what: "checker ÷ (b) per-response openapi-response-validator", value: checkerRate / perResponseRate, unit: "×", ok: checkerRate / perResponseRate >= TARGETS.vsPerResponse, target: `≥ ${TARGETS.vsPerResponse}×` },
  { what: "checker ÷ (c) reused openapi-response-validator", value: checkerRate / reusedRate, unit: "×", ok: true, target: "(informational)" },
  { what: `(d) bare Ajv ÷ checker (median of ${PAIRS} paired passes)`, value: bareOverChecker, unit: "×", ok: bareOverChecker <= TARGETS.bareOverChecker, target: `≤ ${TARGETS.bareOverChecker}×` },
  { what: "(d) bare Ajv ÷ checker (median of the 250 ms rounds)", value: bareOverCheckerSamples, unit: "×", ok: true, target: "(informational)" },
  { what: "cold start", value: coldMs, unit: " ms", ok: coldMs <= TARGETS.coldStartMs, target: `≤ ${TARGETS.coldStartMs} ms` },
];
console.log(`\nload average ${load()}`);
for (const check of checks) {
  const value = check.unit === "×" ? check.value.toFixed(check.value >= 100 ? 0 : 2) : check.value.toFixed(0);
  console.log(`${check.ok ? "ok  " : "MISS"} ${check.what.padEnd(54)} ${`${value}${check.unit}`.padStart(10)}   target ${check.target}`);
}
if (checks.some((check) => !check.ok)) process.exitCode = 1;
