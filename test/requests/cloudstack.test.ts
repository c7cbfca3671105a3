/**
 * Generated requests to every CloudStack plugin operation, through createCloudStackClient, against
 * the mock; and requests missing a required part (test/support/requests.ts says how).
 */
import { CloudMcApiError, createCloudStackClient } from "../../src/clients/cloudstack.ts";
import { describeGeneratedRequests, untyped, type ApiDriver } from "../support/requests.ts";

const SERVICE_PREFIX = "/services/{service_code}/{environment_name}";

const cloudstack: ApiDriver = {
  id: "cloudstack",
  ApiError: CloudMcApiError,
  mediaTypes: ["application/json"],
  // The client takes the service code and environment once and addresses entity paths below
  // them, so each request gets a client for its generated pair and the path without the prefix.
  connect: (baseUrl, fetch) => (method, pathTemplate, init) => {
    const { service_code: serviceCode = "compute-qc", environment_name: environmentName = "dev", ...path } = init.params.path;
    const client = createCloudStackClient({ baseUrl, apiKey: "mock-api-key", serviceCode: String(serviceCode), environmentName: String(environmentName), fetch });
    return untyped(client)(method, pathTemplate.replace(SERVICE_PREFIX, ""), { ...init, params: { ...init.params, path } });
  },
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
