/**
 * The APIs this package describes. One id per API names its spec folder, generated folder,
 * export, docs page and mock port (see design.md). `redocly.yaml` lists the same ids; the build
 * refuses an API that appears in one place and not the other.
 */
export interface ApiInfo {
  /** Short id used in folders, exports and on the command line. */
  readonly id: string;
  /** Human name of the API. */
  readonly title: string;
  /** Loopback port its Prism mock listens on in `npm start` / `npm run mock`. */
  readonly mockPort: number;
}

export const APIS = [
  { id: "cloud66", title: "Cloud 66 API v3", mockPort: 4012 },
  { id: "cloudmanager", title: "MongoDB Cloud Manager Public API v1.0", mockPort: 4014 },
  { id: "cloudmc", title: "CloudMC API v2 (administration)", mockPort: 4010 },
  { id: "cloudstack", title: "CloudMC CloudStack plugin API v1", mockPort: 4011 },
  { id: "cvm", title: "CVM Client API", mockPort: 4013 },
] as const satisfies readonly ApiInfo[];

export type ApiId = (typeof APIS)[number]["id"];

/** Looks an API up by id; throws an error naming the known ids when there is none. */
export function getApi(id: string): ApiInfo {
  const api = APIS.find((candidate) => candidate.id === id);
  if (!api) {
    throw new Error(`Unknown API id "${id}". Known ids: ${APIS.map((a) => a.id).join(", ")}.`);
  }
  return api;
}
