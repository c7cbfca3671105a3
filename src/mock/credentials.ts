/** What the Cloud Manager mock accepts, unless the environment says otherwise when it starts. */
import type { DigestCredentials } from "./digest.js";
import type { ServiceAccountCredentials } from "./oauth.js";

/**
 * The API keys of the Cloud Manager mock unless CLOUDMANAGER_MOCK_PUBLIC_KEY / _PRIVATE_KEY say
 * otherwise. Not `pub` / `priv`: `redocly respect` masks a secret's value wherever it appears in
 * its HAR output, and `pub` is inside every `/api/public/` URL.
 */
export const MOCK_DIGEST_CREDENTIALS: DigestCredentials = {
  username: process.env.CLOUDMANAGER_MOCK_PUBLIC_KEY ?? "mdb_pub_mock",
  password: process.env.CLOUDMANAGER_MOCK_PRIVATE_KEY ?? "mdb_priv_mock",
};

/** The service account of the Cloud Manager mock unless CLOUDMANAGER_MOCK_CLIENT_ID / _CLIENT_SECRET say otherwise. */
export const MOCK_SERVICE_ACCOUNT: ServiceAccountCredentials = {
  clientId: process.env.CLOUDMANAGER_MOCK_CLIENT_ID ?? "mdb_sa_id_mock",
  clientSecret: process.env.CLOUDMANAGER_MOCK_CLIENT_SECRET ?? "mdb_sa_sk_mock",
};
