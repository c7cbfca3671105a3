/**
 * Cloud Manager's service account token endpoints as the mock answers them: `POST /api/oauth/token`
 * (client credentials in HTTP Basic, `grant_type=client_credentials`) issues a bearer token for an
 * hour, `POST /api/oauth/revoke` ends one. The tokens are kept in memory, at most MAX_TOKENS of
 * them, the oldest forgotten first (a forgotten token is refused like an expired one).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface ServiceAccountCredentials {
  clientId: string;
  clientSecret: string;
}

export const OAUTH_PATHS: ReadonlySet<string> = new Set(["/api/oauth/token", "/api/oauth/revoke"]);

const TOKEN_LIFETIME_S = 3600;
const MAX_TOKENS = 10_000;
/** Largest token or revoke request body read. */
const MAX_FORM_BYTES = 16 * 1024;

export interface TokenIssuer {
  /** Whether a bearer token is one this issuer gave out, unexpired and not revoked. */
  valid(token: string): boolean;
  serve(request: IncomingMessage, response: ServerResponse, path: string): Promise<void>;
}

export function createTokenIssuer(account: ServiceAccountCredentials, now: () => number = Date.now): TokenIssuer {
  const tokens = new Map<string, number>(); // token → expiry; insertion order is issue order

  const json = (response: ServerResponse, status: number, body?: object) => {
    response.writeHead(status, body ? { "Content-Type": "application/json" } : {});
    response.end(body ? JSON.stringify(body) : undefined);
  };

  return {
    valid: (token) => (tokens.get(token) ?? 0) > now(),
    async serve(request, response, path) {
      const form = await readForm(request);
      if (request.method !== "POST") return json(response, 405, { error: "invalid_request", error_description: `${path} answers POST only.` });
      if (!form) return json(response, 400, { error: "invalid_request", error_description: `The form is larger than ${MAX_FORM_BYTES} bytes.` });
      if (!sameClient(request.headers.authorization, account)) {
        return json(response, 401, { error: "invalid_client", error_description: "Invalid client credentials." });
      }
      if (path === "/api/oauth/revoke") {
        tokens.delete(form.get("token") ?? "");
        return json(response, 200);
      }
      if (form.get("grant_type") !== "client_credentials") {
        return json(response, 400, { error: "unsupported_grant_type", error_description: "grant_type must be client_credentials." });
      }
      const token = randomBytes(24).toString("base64url");
      if (tokens.size >= MAX_TOKENS) tokens.delete(tokens.keys().next().value!);
      tokens.set(token, now() + TOKEN_LIFETIME_S * 1000);
      return json(response, 200, { access_token: token, expires_in: TOKEN_LIFETIME_S, token_type: "Bearer" });
    },
  };
}

/** Whether `Authorization: Basic …` carries the account's id and secret (form-encoded, RFC 6749 §2.3.1). */
function sameClient(authorization: string | undefined, account: ServiceAccountCredentials): boolean {
  const encoded = /^Basic\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!encoded) return false;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return false;
  const formDecode = (text: string) => decodeURIComponent(text.replace(/\+/g, " "));
  try {
    return equal(formDecode(decoded.slice(0, colon)), account.clientId) && equal(formDecode(decoded.slice(colon + 1)), account.clientSecret);
  } catch {
    return false; // malformed percent-encoding
  }
}

const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  let text = "";
  for await (const chunk of request as AsyncIterable<Buffer>) {
    text += chunk.toString("utf8");
    if (text.length > MAX_FORM_BYTES) {
      request.resume();
      return undefined;
    }
  }
  return new URLSearchParams(text);
}
