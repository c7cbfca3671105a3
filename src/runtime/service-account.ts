/**
 * OAuth 2 client credentials (RFC 6749 §4.4) as a `fetch` for openapi-fetch clients: MongoDB
 * service accounts, Cloud Manager's alternative to digest authentication.
 *
 * The token request and its answer are oauth4webapi's (client secret sent by HTTP Basic, the
 * token response checked); this module keeps one token, sends it as `Authorization: Bearer`,
 * renews it shortly before it expires and once when the API answers `401`, and turns a refused
 * token request into a ServiceAccountTokenError that carries the server's error code but never
 * the client secret.
 */
import * as oauth from "oauth4webapi";

type Fetch = (request: Request) => Promise<Response>;

export interface ServiceAccount {
  /** The service account's client id (`mdb_sa_id_…`). */
  clientId: string;
  /** Its client secret (`mdb_sa_sk_…`): sent only to the token endpoint, never logged or thrown. */
  clientSecret: string;
  /** Token endpoint; defaults to `/api/oauth/token` on the API's origin. */
  tokenUrl?: string;
}

export interface ServiceAccountFetchOptions extends ServiceAccount {
  tokenUrl: string;
  /** The network `fetch` beneath (the token request goes through it too). */
  fetch: Fetch;
  /** Clock, in milliseconds (tests). */
  now?: () => number;
}

/** The token endpoint refused the client credentials, or answered something that is no token. */
export class ServiceAccountTokenError extends Error {
  override readonly name = "ServiceAccountTokenError";
  constructor(
    message: string,
    /** HTTP status of the token endpoint's answer, when there was one. */
    readonly status: number | undefined,
    /** The OAuth error code it sent (`invalid_client`, …), when it sent one. */
    readonly error: string | undefined,
  ) {
    super(message);
  }
}

/** Renew this long before the token expires (or at 90% of a shorter lifetime). */
const RENEW_MARGIN_MS = 60_000;

interface Token {
  value: string;
  /** When to renew it (clock of `now`). */
  renewAt: number;
}

export function serviceAccountFetch(options: ServiceAccountFetchOptions): Fetch {
  const now = options.now ?? Date.now;
  const tokenUrl = new URL(options.tokenUrl);
  const server: oauth.AuthorizationServer = { issuer: tokenUrl.origin, token_endpoint: tokenUrl.href };
  const client: oauth.Client = { client_id: options.clientId };
  const authentication = oauth.ClientSecretBasic(options.clientSecret);
  const requestOptions = {
    [oauth.customFetch]: (url: string, init: RequestInit) => options.fetch(new Request(url, init)),
    // Plain HTTP only for a token endpoint on this machine (a mock, a test).
    [oauth.allowInsecureRequests]: tokenUrl.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(tokenUrl.hostname),
  };

  let token: Token | undefined;
  let pending: Promise<Token> | undefined;

  const requestToken = async (): Promise<Token> => {
    const started = now();
    let answer: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.clientCredentialsGrantRequest(server, client, authentication, new URLSearchParams(), requestOptions);
      answer = await oauth.processClientCredentialsResponse(server, client, response);
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError) {
        throw new ServiceAccountTokenError(
          `The token endpoint ${tokenUrl.href} refused service account ${options.clientId}: ${error.status} ${error.error}`,
          error.status,
          error.error,
        );
      }
      if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
        throw new ServiceAccountTokenError(`The token endpoint ${tokenUrl.href} answered no usable token: ${error.message}`, undefined, undefined);
      }
      throw error; // transport failures keep their own typed errors
    }
    const lifetimeMs = (answer.expires_in ?? 3600) * 1000;
    return { value: answer.access_token, renewAt: started + Math.max(0, lifetimeMs - Math.min(RENEW_MARGIN_MS, lifetimeMs / 10)) };
  };

  /** The current token, renewed when due; concurrent callers share one token request. */
  const currentToken = async (stale?: Token): Promise<Token> => {
    if (token && token !== stale && now() < token.renewAt) return token;
    pending ??= requestToken().then(
      (fresh) => {
        token = fresh;
        pending = undefined;
        return fresh;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };

  const send = (request: Request, used: Token) => {
    const copy = request.clone();
    copy.headers.set("Authorization", `Bearer ${used.value}`);
    return options.fetch(copy);
  };

  return async (request) => {
    const used = await currentToken();
    const response = await send(request, used);
    if (response.status !== 401) return response;
    // The token may have been revoked or expired early: renew once and try again.
    await response.body?.cancel();
    return send(request, await currentToken(used));
  };
}
