/**
 * Generated requests to every CloudStack plugin operation, through createCloudStackClient, against
 * the mock; and requests missing a required part (test/support/requests.ts says how).
 */
import { CloudMcApiError, createCloudStackClient } from "../../src/clients/cloudstack.ts";
import { describeGeneratedRequests, untyped, type ApiDriver } from "../support/requests.ts";

const cloudstack: ApiDriver = {
  id: "cloudstack",
  ApiError: CloudMcApiError,
  mediaTypes: ["application/json"],
  // The service code and environment are the server's variables: the client takes them once.
  connect: (baseUrl, fetch) =>
    untyped(createCloudStackClient({ baseUrl, apiKey: "mock-api-key", serviceCode: "compute-qc", environmentName: "dev", fetch })),
  withoutCredentials(request) {
    request.headers.delete("MC-Api-Key");
    return request;
  },
};

describeGeneratedRequests(cloudstack, {
  unrefusable: {
    // The body of a `?operation=` call is an `anyOf` of every operation's branch, and JSON Schema
    // cannot tie a branch to a query parameter: `{}` is no attachToInstance body (it lacks
    // `instanceId`), but it is a valid createSnapshotFromVolume one, so the mock must accept it.
    "operateVolume body property instanceId": "createSnapshotFromVolume's branch (all optional) accepts what is left",
  },
});
