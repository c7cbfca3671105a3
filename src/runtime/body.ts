/**
 * Answers read whole, within the attempt that asked for them, and never more than a limit.
 *
 * The transport's network layer reads every body before passing the answer up, so that an
 * attempt's timeout, its typed failures and its retries cover the body too, and nothing of the
 * attempt (its signal, its timer, the request it sent) has to outlive it. What goes up is a
 * BufferedResponse, the answer with its body in memory, whose `json()` parses once however often it
 * is called.
 *
 * openapi-fetch parses a 2xx body with `json()` (its default `parseAs`), so that is also where a
 * 2xx answer that is not the JSON its contract promises (a proxy's HTML page, a truncated body)
 * fails, as InvalidResponseError. Judged by parsing, not by Content-Type: CVM's PHP answers JSON as
 * `text/html`.
 */
import { InvalidResponseError, ResponseTooLargeError } from "./errors.js";

type Bytes = Uint8Array<ArrayBuffer>;

const EMPTY: Bytes = new Uint8Array(0);
const utf8 = new TextDecoder();

/**
 * A Response whose body is already in memory: it can be read any number of times (`bodyUsed`
 * stays false), and `json()` parses once and keeps the value. Not made with `new Response(bytes)`,
 * which builds a ReadableStream for every answer (some 15 µs in Node 20, 5% of a loopback call):
 * the stream is built only when someone asks for `body`.
 */
export class BufferedResponse extends Response {
  readonly #bytes: Bytes;
  readonly #headers: Headers;
  readonly #url: string;
  /** What InvalidResponseError names: the method and URL of the request, not the request itself. */
  readonly #request: Pick<Request, "method" | "url">;
  #stream: ReadableStream<Bytes> | null = null;
  #json: { value: unknown } | undefined;

  constructor(bytes: Bytes, from: Response, request: Pick<Request, "method" | "url">) {
    super(null, { status: from.status, statusText: from.statusText });
    this.#bytes = bytes;
    this.#headers = lengthSaid(from.headers, bytes.byteLength);
    this.#url = from.url;
    this.#request = { method: request.method, url: request.url };
  }

  // The headers are the answer's own (copying them costs about what a small body's parse does),
  // unless they need the body's length: see lengthSaid.
  override get headers(): Headers {
    return this.#headers;
  }

  override get url(): string {
    return this.#url;
  }

  override get body(): ReadableStream<Bytes> | null {
    if (this.#bytes.byteLength === 0) return null;
    this.#stream ??= new Blob([this.#bytes]).stream();
    return this.#stream;
  }

  override text(): Promise<string> {
    return Promise.resolve(utf8.decode(this.#bytes));
  }

  /**
   * The body as JSON, parsed on the first call; `undefined` for an empty body (as openapi-fetch
   * reads one); InvalidResponseError, without the body's text, when it is not JSON.
   */
  override json(): Promise<unknown> {
    if (this.#json === undefined) {
      try {
        this.#json = { value: this.#bytes.byteLength === 0 ? undefined : JSON.parse(utf8.decode(this.#bytes)) };
      } catch {
        return Promise.reject(new InvalidResponseError(this.#request, this));
      }
    }
    return Promise.resolve(this.#json.value);
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.#bytes.slice().buffer);
  }

  override blob(): Promise<Blob> {
    return Promise.resolve(new Blob([this.#bytes], { type: this.headers.get("Content-Type") ?? "" }));
  }

  override formData(): Promise<FormData> {
    return new Response(this.#bytes, { headers: this.headers }).formData();
  }

  override clone(): BufferedResponse {
    return new BufferedResponse(this.#bytes, this, this.#request);
  }
}

/**
 * `headers` saying `length` as the Content-Length of a body held whole: openapi-fetch parses a JSON
 * body with `json()` only when it is given a length (else it reads `text()` and parses that, a
 * second parse). A copy when they say another length (a compressed or chunked answer).
 */
function lengthSaid(headers: Headers, length: number): Headers {
  if (headers.get("Content-Length") === String(length) && !headers.has("Transfer-Encoding")) return headers;
  const copy = new Headers(headers);
  copy.delete("Transfer-Encoding");
  copy.set("Content-Length", String(length));
  return copy;
}

/**
 * Reads `response`'s body whole, at most `limit` bytes of it (as decoded: a compressed answer is
 * counted after decompression), and answers it as a BufferedResponse. Past the limit, the
 * connection is closed and ResponseTooLargeError thrown; a declared Content-Length over the limit
 * fails before reading. `signal` is the one the request was sent with: fetch ends the body with
 * its reason when it aborts (fetch holds what links the two while the body is being read).
 */
export async function readWhole(response: Response, request: Request, limit: number, signal?: AbortSignal): Promise<BufferedResponse> {
  const body = response.body;
  if (body === null) return new BufferedResponse(EMPTY, response, request);
  const declared = response.headers.has("Content-Encoding") ? Number.NaN : Number(response.headers.get("Content-Length") ?? Number.NaN);
  if (declared > limit) {
    await body.cancel();
    throw new ResponseTooLargeError(request, response.status, limit);
  }
  const reader = body.getReader();
  const chunks: Bytes[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    // A body cut short by an abort must not pass for a whole one.
    if (signal?.aborted) throw signal.reason;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ResponseTooLargeError(request, response.status, limit);
    }
    chunks.push(value);
  }
  return new BufferedResponse(chunks.length === 1 ? chunks[0]! : concat(chunks, size), response, request);
}

function concat(chunks: Bytes[], size: number): Bytes {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
