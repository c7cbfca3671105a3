/**
 * Typed client for the CVM Client API.
 *
 *   const cvm = createCvmClient({ baseUrl: "https://panel.example.net", publicToken, privateToken });
 *   const { data } = await cvm.GET("/api/client/vps/list"); // an answer outside 2xx throws CvmApiError
 *
 * Timeouts, retries and the errors they end in are the shared transport's (src/runtime/transport.ts).
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "../../generated/cvm/schema.js";
import { ApiError, summarize } from "../runtime/errors.js";
import type { RetryOptions } from "../runtime/retry.js";
import { createTransport, type TransportOptions } from "../runtime/transport.js";

export type { components, operations, paths, RetryOptions };
export * from "../runtime/transport-errors.js";
export type CvmClient = Client<paths>;
/** Body of every CVM error answer: `{ "errors": ["..."] }`. */
export type CvmErrorBody = components["schemas"]["ErrorEnvelope"];
export type Vps = components["schemas"]["Vps"];
export type VpsStatus = components["schemas"]["VpsStatus"];

/** A CVM answer outside 2xx, with the messages of its `{ "errors": [...] }` body. */
export class CvmApiError extends ApiError<unknown> {
  override name = "CvmApiError";
  /** Every message of the body (empty when the body was not CVM's error envelope). */
  readonly errors: string[];

  constructor(status: number, body: unknown, request: Request) {
    const errors = (body as Partial<CvmErrorBody> | undefined)?.errors;
    const messages = Array.isArray(errors) ? errors.filter((message): message is string => typeof message === "string") : [];
    const summary = summarize(request);
    super(messages.length > 0 ? messages.join("; ") : `CVM answered ${status} to ${summary.method} ${summary.path}`, { status, body, request: summary });
    this.errors = messages;
  }
}

export interface CvmClientOptions extends TransportOptions {
  /** Scheme and host of the CVM panel, e.g. `https://panel.example.net` (the API sits at the host root). */
  baseUrl: string;
  /** Public half of the API token pair (`API-Public-Token`). */
  publicToken: string;
  /** Private half of the API token pair (`API-Private-Token`). */
  privateToken: string;
}

export function createCvmClient(options: CvmClientOptions): CvmClient {
  for (const field of ["baseUrl", "publicToken", "privateToken"] as const) {
    if (typeof options[field] !== "string" || options[field] === "") {
      throw new TypeError(`createCvmClient: option "${field}" must be a non-empty string.`);
    }
  }
  const transport = createTransport("createCvmClient", options, CvmApiError);
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...transport,
    // CVM reads request parameters as HTML form fields ($_POST), so every body is form-encoded.
    bodySerializer: (body) => new URLSearchParams(body as unknown as Record<string, string>).toString(),
  });
  client.use(tokenPair(options.publicToken, options.privateToken), formContentType);
  return client;
}

/** Sends both halves of the token pair on every request; CVM refuses a request with only one. */
function tokenPair(publicToken: string, privateToken: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set("API-Public-Token", publicToken);
      request.headers.set("API-Private-Token", privateToken);
      return request;
    },
  };
}

const formContentType: Middleware = {
  onRequest({ request }) {
    if (request.body !== null) request.headers.set("Content-Type", "application/x-www-form-urlencoded");
    return request;
  },
};
