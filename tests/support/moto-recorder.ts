/**
 * moto's request recorder (`/moto-api/recorder/*`, moto 5.2.5
 * `moto/moto_api/_internal/recorder/`): the server appends every request it serves, whoever sent
 * it, to one file while recording is on; `download-recording` returns that file, `reset-recording`
 * empties it. The recorder is global to the server and other test files use moto at the same time,
 * so a recording holds their requests too: callers attribute requests by who signed them
 * ({@link signerOf}: each function run signs with an access key of its own).
 *
 * A window is bracketed by two sentinel requests; if either is missing from the download, some
 * other user of the recorder reset or stopped it meanwhile, and requests may be lost: the window
 * throws rather than report fewer calls than were made.
 */
import { randomUUID } from "node:crypto";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { parseRecording, type RecordedRequest } from "./aws-actions.js";

export class RecordingInterruptedError extends Error {
  override readonly name = "RecordingInterruptedError";
}

export interface RecorderOptions {
  /** The moto server (`AWS_ENDPOINT_URL`). */
  readonly endpoint: string;
  readonly region: string;
  /** A bucket of the caller's on that server, for the sentinel requests (HEAD of missing keys). */
  readonly bucket: string;
}

export interface MotoRecorder {
  /** Runs `work` while recording; returns its result and the requests served meanwhile. */
  record<T>(work: () => Promise<T>): Promise<{ result: T; requests: RecordedRequest[] }>;
  close(): void;
}

export function motoRecorder(options: RecorderOptions): MotoRecorder {
  const control = async (command: string, method = "POST") => {
    const response = await fetch(`${options.endpoint}/moto-api/recorder/${command}`, { method });
    if (!response.ok) throw new Error(`moto recorder ${command}: HTTP ${response.status}`);
    return response.text();
  };
  const client = new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: true,
    credentials: { accessKeyId: "SENTINEL", secretAccessKey: "sentinel" },
  });
  const sentinel = async (key: string) => {
    await client.send(new HeadObjectCommand({ Bucket: options.bucket, Key: key })).catch((error: unknown) => {
      if ((error as { name?: string }).name !== "NotFound") throw error;
    });
  };
  return {
    async record<T>(work: () => Promise<T>) {
      const id = randomUUID();
      const begin = `.recorder/${id}-begin`;
      const end = `.recorder/${id}-end`;
      await control("reset-recording");
      await control("start-recording");
      let result: T;
      try {
        await sentinel(begin);
        result = await work();
        await sentinel(end);
      } finally {
        await control("stop-recording");
      }
      const text = await control("download-recording", "GET");
      // The server keeps the file (in its working directory) until the next reset: empty it.
      await control("reset-recording");
      const requests = parseRecording(text);
      const at = (key: string) => requests.findIndex((r) => new URL(r.url).pathname.endsWith(`/${key}`));
      const from = at(begin);
      const to = at(end);
      if (from < 0 || to < from)
        throw new RecordingInterruptedError(
          "moto's recording lost its sentinels: another user of the recorder reset or stopped it during this window",
        );
      return { result, requests: requests.slice(from + 1, to) };
    },
    close: () => client.destroy(),
  };
}
