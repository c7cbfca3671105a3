/**
 * Generated requests to every Cloud Manager operation, through createCloudManagerClient (HTTP
 * Digest against the mock's digest front, keys mdb_pub_mock / mdb_priv_mock), against the mock; and requests
 * missing a required part (test/support/requests.ts says how).
 */
import { CloudManagerApiError, createCloudManagerClient } from "../../src/clients/cloudmanager.ts";
import { describeGeneratedRequests, untyped } from "../support/requests.ts";

const notThroughTheClient = {
  createServiceAccountToken: "the client asks for its own token (HTTP Basic with the client secret, src/runtime/service-account.ts); test/mock/cloudmanager.test.ts calls it",
  revokeServiceAccountToken: "HTTP Basic with the client secret, not digest; test/mock/cloudmanager.test.ts calls it",
};

describeGeneratedRequests({
  id: "cloudmanager",
  ApiError: CloudManagerApiError,
  mediaTypes: ["application/json"],
  // One client per sender: its digest challenge is answered once, then reused.
  connect: (baseUrl, fetch) => untyped(createCloudManagerClient({ baseUrl, publicKey: "mdb_pub_mock", privateKey: "mdb_priv_mock", fetch })),
  // The client answers the front's challenge; without the answer every attempt gets 401.
  withoutCredentials(request) {
    request.headers.delete("Authorization");
    return request;
  },
}, { notThroughTheClient });
