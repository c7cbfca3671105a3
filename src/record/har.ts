/**
 * `cloud-contracts record --format har`: the session as one HAR 1.2 file
 * (http://www.softwareishard.com/blog/har-12-spec/), which browsers' developer tools, Playwright,
 * and `cloud-contracts verify` read. Each entry is made from the redacted recording of the
 * exchange, never from the raw one, so a HAR carries exactly what a recording would: no secret.
 *
 * The file is rewritten whole (atomically) after each exchange, so an interrupted session keeps
 * every exchange recorded so far and the file always parses; writes that pile up while one is
 * under way are made as one. Entries are held as JSON text, ready to write (a session of
 * thousands of large answers is better recorded as recordings, one file each).
 */
import { readFile } from "node:fs/promises";
import { STATUS_CODES } from "node:http";
import { writeFileAtomic } from "../atomic.js";
import { headerValue, type RecordedHeaders, type Recording } from "./redact.js";

interface HarHeader {
  name: string;
  value: string;
}

const harHeaders = (headers: RecordedHeaders): HarHeader[] =>
  Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((one) => ({ name, value: one })));

/** The body as HAR text: JSON as JSON, text as it is, nothing for an empty body. */
const bodyText = (body: unknown): string | undefined => (body === null || body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body));

/** One HAR entry from a redacted recording of an exchange with `origin`. */
export function harEntry(recording: Omit<Recording, "source">, origin: string, startedAt: Date, durationMs: number): object {
  const url = origin + recording.request.path;
  const query = new URL(url).searchParams;
  const requestText = bodyText(recording.request.body);
  const responseText = bodyText(recording.response.body);
  const requestType = headerValue(recording.request.headers, "content-type") ?? "application/json";
  return {
    startedDateTime: startedAt.toISOString(),
    time: durationMs,
    request: {
      method: recording.request.method,
      url,
      httpVersion: "HTTP/1.1",
      cookies: [],
      headers: harHeaders(recording.request.headers),
      queryString: [...query].map(([name, value]) => ({ name, value })),
      ...(requestText !== undefined ? { postData: { mimeType: requestType, text: requestText } } : {}),
      headersSize: -1,
      bodySize: requestText === undefined ? 0 : Buffer.byteLength(requestText),
    },
    response: {
      status: recording.response.status,
      statusText: STATUS_CODES[recording.response.status] ?? "",
      httpVersion: "HTTP/1.1",
      cookies: [],
      headers: harHeaders(recording.response.headers),
      content: {
        size: responseText === undefined ? 0 : Buffer.byteLength(responseText),
        mimeType: headerValue(recording.response.headers, "content-type") ?? "",
        ...(responseText !== undefined ? { text: responseText } : {}),
      },
      redirectURL: headerValue(recording.response.headers, "location") ?? "",
      headersSize: -1,
      bodySize: -1,
    },
    cache: {},
    timings: { send: 0, wait: durationMs, receive: 0 },
  };
}

export interface HarWriter {
  /** Adds an entry; resolves with its index once the file holding it is on disk. */
  add(entry: object): Promise<number>;
}

/**
 * A HAR file being written. An existing file is continued (its entries kept, new ones after
 * them), as a folder of recordings is; a file that is not a HAR is refused rather than replaced.
 */
export async function openHarWriter(path: string, log: { creator: { name: string; version: string }; comment: string }): Promise<HarWriter> {
  const entries: string[] = [];
  const existing = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new Error(`${path}: cannot read it to add to it: ${error.message}`);
  });
  if (existing !== undefined) {
    let parsed: { log?: { entries?: unknown } } | undefined;
    try {
      parsed = JSON.parse(existing) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed?.log?.entries)) throw new Error(`${path} exists and is not a HAR file (no log.entries): refusing to replace it.`);
    for (const entry of parsed.log.entries) entries.push(JSON.stringify(entry));
  }

  const render = () =>
    `{"log":{"version":"1.2","creator":${JSON.stringify(log.creator)},"comment":${JSON.stringify(log.comment)},"entries":[\n${entries.join(",\n")}\n]}}\n`;
  /** Entries on disk; writes run one after another, and one finds nothing to do when an earlier one took its entry along. */
  let written = entries.length;
  let queue: Promise<void> = Promise.resolve();
  return {
    async add(entry) {
      entries.push(JSON.stringify(entry));
      const index = entries.length - 1;
      const done = queue.then(async () => {
        if (written > index) return;
        const count = entries.length;
        await writeFileAtomic(path, render());
        written = count;
      });
      queue = done.catch(() => undefined); // a failed write is retried by the next one, with every entry
      await done;
      return index;
    },
  };
}
