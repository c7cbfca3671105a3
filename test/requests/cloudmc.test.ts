/**
 * Generated requests to every CloudMC operation, through createCloudMcClient, against the mock;
 * and requests missing a required part (test/support/requests.ts says how).
 */
import { CloudMcApiError, createCloudMcClient } from "../../src/clients/cloudmc.ts";
import { describeGeneratedRequests, untyped } from "../support/requests.ts";

describeGeneratedRequests({
  id: "cloudmc",
  ApiError: CloudMcApiError,
  // `POST /trials/{id}/deny` takes its reason as text/plain.
  mediaTypes: ["application/json", "text/plain"],
  connect: (baseUrl, fetch) => untyped(createCloudMcClient({ baseUrl, apiKey: "mock-api-key", fetch })),
  withoutCredentials(request) {
    request.headers.delete("MC-Api-Key");
    return request;
  },
});
