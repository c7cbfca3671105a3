/** Reads the recorded exchanges under test/recordings/<id>/. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Recording {
  request: { method: string; path: string };
  response: { status: number; body: unknown };
  source: string;
}

const RECORDINGS = fileURLToPath(new URL("../recordings/", import.meta.url));

export function readRecordings(api: string): { file: string; recording: Recording }[] {
  const dir = join(RECORDINGS, api);
  return readdirSync(dir)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => ({ file, recording: JSON.parse(readFileSync(join(dir, file), "utf8")) as Recording }));
}

export function readRecording(api: string, file: string): Recording {
  return JSON.parse(readFileSync(join(RECORDINGS, api, file), "utf8")) as Recording;
}

/** The recording's response in the shape `validateResponse` takes. */
export const asResponse = ({ request, response }: Recording) => ({ ...request, ...response });

/** A recording's exchange with its body changed by `edit` (a deep copy: the file is untouched). */
export function brokenCopy(api: string, file: string, edit: (body: any) => void): RecordedExchange {
  const recording = readRecording(api, file);
  edit(recording.response.body);
  return asResponse(recording);
}

export type RecordedExchange = ReturnType<typeof asResponse>;
