/**
 * Generated requests to every CVM operation, through createCvmClient (form-encoded bodies),
 * against the mock; and requests missing a required part (test/support/requests.ts says how).
 */
import { createCvmClient, CvmApiError } from "../../src/clients/cvm.ts";
import { describeGeneratedRequests, untyped } from "../support/requests.ts";

describeGeneratedRequests({
  id: "cvm",
  ApiError: CvmApiError,
  mediaTypes: ["application/x-www-form-urlencoded"],
  connect: (baseUrl, fetch) => untyped(createCvmClient({ baseUrl, publicToken: "mock-public", privateToken: "mock-private", fetch })),
  // Both halves of the pair go: the mock refuses a request with either one missing.
  withoutCredentials(request) {
    request.headers.delete("API-Public-Token");
    request.headers.delete("API-Private-Token");
    return request;
  },
});
