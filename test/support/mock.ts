/** Starts an API's Prism mock on a free loopback port for one test file, and stops it after. */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { freePort, startMock, type RunningMock } from "../../scripts/prism.ts";

export function useMock(id: string): { readonly current: RunningMock } {
  const holder: { current?: RunningMock } = {};
  beforeAll(async () => {
    const specPath = fileURLToPath(new URL(`../../generated/${id}/openapi.json`, import.meta.url));
    holder.current = await startMock(id, { specPath, port: await freePort() });
  });
  afterAll(async () => {
    await holder.current?.stop();
  });
  return {
    get current() {
      if (!holder.current) throw new Error(`The ${id} mock is not running (beforeAll failed?).`);
      return holder.current;
    },
  };
}
