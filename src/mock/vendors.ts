/**
 * What each vendor's mock says when it refuses a request: the vendor's own error envelope (as its
 * contract describes it) with a message that names the actual problem, and what a user needs to
 * call the mock (credentials, one request to try).
 *
 * The vendors document their envelopes but not every error the mock must produce (a validation
 * failure, an unknown path); where a field has no documented value for such a case it is filled as
 * said on each envelope below, and README.md says so.
 */
import type { ApiId } from "../apis.js";
import { MOCK_DIGEST_CREDENTIALS, MOCK_SERVICE_ACCOUNT } from "./credentials.js";

/** Why the mock refuses a request. */
export type RefusalKind = "invalid" | "unparseable" | "unauthorized" | "not-found" | "method" | "too-large" | "preference";

export interface Refusal {
  kind: RefusalKind;
  status: number;
  /** What is wrong, in words that name the field and the rule (`body.name: must be string`). */
  message: string;
  /** For validation failures: each violation, `<where>: <rule>`. */
  violations?: string[];
  /** Error codes the contract documents for this status of this operation, when it lists them (Cloud Manager). */
  documentedCodes?: readonly string[];
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
};

/** Cloud Manager error codes the mock prefers for each kind, when the operation documents them. */
const CLOUD_MANAGER_CODES: Record<RefusalKind, string[]> = {
  invalid: ["INVALID_ATTRIBUTE", "MISSING_ATTRIBUTE", "INVALID_QUERY_PARAMETER", "INVALID_ENUM_VALUE"],
  unparseable: ["INVALID_JSON", "INVALID_JSON_ATTRIBUTE"],
  unauthorized: ["USER_UNAUTHORIZED"],
  "not-found": ["RESOURCE_NOT_FOUND"],
  method: ["UNEXPECTED_ERROR"],
  "too-large": ["INVALID_ATTRIBUTE"],
  preference: ["INVALID_QUERY_PARAMETER", "INVALID_ATTRIBUTE"],
};

const pickCode = (refusal: Refusal, fallback: string) => {
  const preferred = CLOUD_MANAGER_CODES[refusal.kind];
  const documented = refusal.documentedCodes;
  if (!documented || documented.length === 0) return preferred[0] ?? fallback;
  return preferred.find((code) => documented.includes(code)) ?? documented[0]!;
};

/** Cloud 66's `error` names follow OAuth's snake_case error codes. */
const CLOUD66_ERRORS: Record<RefusalKind, string> = {
  invalid: "invalid_request",
  unparseable: "invalid_request",
  unauthorized: "unauthorized",
  "not-found": "not_found",
  method: "method_not_allowed",
  "too-large": "request_too_large",
  preference: "invalid_request",
};

/** The error body each vendor answers a refusal with. */
export const ERROR_ENVELOPES: Record<ApiId, (refusal: Refusal) => unknown> = {
  // CloudMC documents `errors[]` of `{code, message, context}` with its own numeric codes, none of
  // them for these cases: `code` is the HTTP status.
  cloudmc: (refusal) => ({ errors: [{ code: refusal.status, message: refusal.message, context: { reason: refusal.kind } }] }),
  cloudstack: (refusal) => ({ errors: [{ code: refusal.status, message: refusal.message, context: { reason: refusal.kind } }] }),
  cloud66: (refusal) => ({ error: CLOUD66_ERRORS[refusal.kind], error_description: refusal.message }),
  // CVM's documented message for a missing or wrong token pair, word for word.
  cvm: (refusal) => ({ errors: refusal.kind === "unauthorized" ? ["No valid API token pair was specified."] : [refusal.message] }),
  cloudmanager: (refusal) => ({
    detail: refusal.message,
    error: refusal.status,
    errorCode: pickCode(refusal, "UNEXPECTED_ERROR"),
    parameters: refusal.violations ?? [],
    reason: REASONS[refusal.status] ?? "Error",
  }),
};

export interface MockGuide {
  /** What the mock accepts as credentials, in a line. */
  credentials: string;
  /** One request to try, as a curl command line with `{base}` for the mock's root URL. */
  example: string;
}

export const MOCK_GUIDES: Record<ApiId, MockGuide> = {
  cloud66: { credentials: "Authorization: Bearer <any token>", example: "curl -H 'Authorization: Bearer x' {base}/stacks" },
  cloudmanager: {
    credentials: `HTTP Digest ${MOCK_DIGEST_CREDENTIALS.username} / ${MOCK_DIGEST_CREDENTIALS.password}, or a service account token (POST /api/oauth/token, Basic ${MOCK_SERVICE_ACCOUNT.clientId}:${MOCK_SERVICE_ACCOUNT.clientSecret})`,
    example: `curl --digest --user ${MOCK_DIGEST_CREDENTIALS.username}:${MOCK_DIGEST_CREDENTIALS.password} {base}/groups`,
  },
  cloudmc: { credentials: "MC-Api-Key: <any key>", example: "curl -H 'MC-Api-Key: x' {base}/organizations" },
  cloudstack: { credentials: "MC-Api-Key: <any key>", example: "curl -H 'MC-Api-Key: x' {base}/services/compute-qc/dev/instances" },
  cvm: { credentials: "API-Public-Token and API-Private-Token: <any values>", example: "curl -H 'API-Public-Token: x' -H 'API-Private-Token: y' {base}/api/client/vps/list" },
};
