/**
 * The five clients as test subjects (six: Cloud Manager with an API key and with a service
 * account), each built against a given origin with canary credentials, so that a test can look for
 * CANARY in whatever a server received or an error shows. Each subject makes one GET and one POST
 * with a body; `home` answers the requests of the Cloud Manager subjects' authentication: a digest
 * challenge for a request without an answer, a token for the service account.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { inspect } from "node:util";
import { expect } from "vitest";
import { Cloud66ApiError, createCloud66Client } from "../../src/clients/cloud66.ts";
import { CloudManagerApiError, createCloudManagerClient } from "../../src/clients/cloudmanager.ts";
import { CloudMcApiError, createCloudMcClient } from "../../src/clients/cloudmc.ts";
import { createCloudStackClient } from "../../src/clients/cloudstack.ts";
import { createCvmClient, CvmApiError } from "../../src/clients/cvm.ts";
import type { ApiError } from "../../src/runtime/errors.ts";
import type { TransportOptions } from "../../src/runtime/transport.ts";

export const CANARY = "canary-secret-";
export const canary = (field: string) => `${CANARY}${field}`;

/** What a log line could show of an error, down its cause chain. */
function everythingShown(error: unknown): string[] {
  const shown: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) {
    shown.push(current.message, String(current), current.stack ?? "", JSON.stringify(current), inspect(current, { depth: 5 }));
  }
  return shown;
}

/** The error a call fails with, once checked that nothing it shows carries a canary credential. */
export async function failure(call: Promise<unknown>): Promise<Error> {
  const error = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(Error);
  for (const shown of everythingShown(error)) expect(shown).not.toContain(CANARY);
  return error as Error;
}

export const CLOUD_MANAGER_ROOT = "/api/public/v1.0";
const TOKEN_PATH = "/api/oauth/token";

export interface Calls {
  get(signal?: AbortSignal): Promise<unknown>;
  post(): Promise<unknown>;
}

export interface ClientSubject {
  name: string;
  ApiError: new (...args: never[]) => ApiError;
  /** The client against `origin`, with a canary in every credential option. */
  connect(origin: string, options?: TransportOptions): Calls;
}

export const SUBJECTS: ClientSubject[] = [
  {
    name: "CVM",
    ApiError: CvmApiError,
    connect(origin, options) {
      const cvm = createCvmClient({ baseUrl: origin, publicToken: canary("publicToken"), privateToken: canary("privateToken"), ...options });
      return {
        get: (signal) => cvm.GET("/api/client/vps/list", { signal }),
        post: () => cvm.POST("/api/client/vps/{id}/reinstall", { params: { path: { id: "1" } }, body: { template: "12" } }),
      };
    },
  },
  {
    name: "CloudMC",
    ApiError: CloudMcApiError,
    connect(origin, options) {
      // With orgId, middleware sends a copy of each request to another URL.
      const mc = createCloudMcClient({ baseUrl: `${origin}/api/v2`, apiKey: canary("apiKey"), orgId: "org-1", ...options });
      return {
        get: (signal) => mc.GET("/organizations", { signal }),
        post: () => mc.POST("/organizations", { body: { name: "Umbrella", entryPoint: "umbrella" } }),
      };
    },
  },
  {
    name: "CloudStack",
    ApiError: CloudMcApiError,
    connect(origin, options) {
      const cs = createCloudStackClient({ baseUrl: `${origin}/api/v2`, apiKey: canary("apiKey"), serviceCode: "compute-qc", environmentName: "dev", ...options });
      return {
        get: (signal) => cs.GET("/instances", { signal }),
        post: () => cs.operate("instances", "i-1", "stop", { forceStop: true }),
      };
    },
  },
  {
    name: "Cloud 66",
    ApiError: Cloud66ApiError,
    connect(origin, options) {
      const c66 = createCloud66Client({ baseUrl: `${origin}/api/3`, token: canary("token"), ...options });
      const stack = { params: { path: { stack_id: "5999b763474b0eafa5fafb64bff0ba80" } } };
      return {
        get: (signal) => c66.GET("/stacks", { signal }),
        post: () => c66.POST("/stacks/{stack_id}/actions", { ...stack, body: { command: "service_restart" } }),
      };
    },
  },
  {
    name: "Cloud Manager",
    ApiError: CloudManagerApiError,
    connect(origin, options) {
      const cm = createCloudManagerClient({ baseUrl: origin + CLOUD_MANAGER_ROOT, publicKey: canary("publicKey"), privateKey: canary("privateKey"), ...options });
      return {
        get: (signal) => cm.GET("/groups", { signal }),
        post: () => cm.POST("/groups", { body: { name: "project" } }),
      };
    },
  },
  {
    name: "Cloud Manager (service account)",
    ApiError: CloudManagerApiError,
    connect(origin, options) {
      const serviceAccount = { clientId: canary("clientId"), clientSecret: canary("clientSecret") };
      const cm = createCloudManagerClient({ baseUrl: origin + CLOUD_MANAGER_ROOT, serviceAccount, ...options });
      return {
        get: (signal) => cm.GET("/groups", { signal }),
        post: () => cm.POST("/groups", { body: { name: "project" } }),
      };
    },
  },
];

/**
 * Answers what the Cloud Manager subjects' authentication asks of the client's own server, and
 * says whether it did: a token for the service account, a digest challenge for a Cloud Manager
 * request with neither a digest answer nor a bearer token. Anything else is the test's to answer.
 */
export function answerAuthentication(request: IncomingMessage, response: ServerResponse): boolean {
  const url = request.url!;
  if (url === TOKEN_PATH) {
    request.resume();
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ access_token: canary("accessToken"), token_type: "Bearer", expires_in: 3600 }));
    return true;
  }
  const authorization = request.headers.authorization ?? "";
  if (url.startsWith(CLOUD_MANAGER_ROOT) && !authorization.startsWith("Digest ") && !authorization.startsWith("Bearer ")) {
    request.resume();
    response.writeHead(401, { "WWW-Authenticate": 'Digest realm="test", nonce="n-1", algorithm=SHA-256, qop="auth"' }).end();
    return true;
  }
  return false;
}
