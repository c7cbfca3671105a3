/**
 * Generated requests to every Cloud 66 operation, through createCloud66Client, against the mock;
 * and requests missing a required part (test/support/requests.ts says how).
 */
import { Cloud66ApiError, createCloud66Client } from "../../src/clients/cloud66.ts";
import { describeGeneratedRequests, untyped } from "../support/requests.ts";

describeGeneratedRequests({
  id: "cloud66",
  ApiError: Cloud66ApiError,
  // The contract also takes form fields; the client sends JSON.
  mediaTypes: ["application/json"],
  connect: (baseUrl, fetch) => untyped(createCloud66Client({ baseUrl, token: "mock-token", fetch })),
  withoutCredentials(request) {
    request.headers.delete("Authorization");
    return request;
  },
});
