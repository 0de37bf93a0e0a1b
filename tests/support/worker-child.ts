/**
 * A worker in its own process, so a test can kill it with SIGKILL mid-upload (no cleanup code
 * runs, as when Lambda times out or runs out of memory). Settings come as one JSON argument.
 */
import { MongoClient } from "mongodb";
import { runWorker } from "../../pipeline/ingest/worker.js";
import { S3ObjectStore } from "../../pipeline/lake/s3-store.js";
import { collection } from "../../pipeline/schema/registry.js";
import { postgresIngestState } from "../../pipeline/support/ingest-state.js";
import { createSupportPool } from "../../pipeline/support/pool.js";
import { motoClient } from "./s3-bucket.js";

export interface WorkerChildSettings {
  readonly mongodbUrl: string;
  readonly database: string;
  readonly supportUrl: string;
  readonly bucket: string;
  readonly collection: string;
  readonly idDevice: number;
  readonly lastLogDate: string;
  readonly rowGroupSize: number;
}

const settings = JSON.parse(process.argv[2] ?? "{}") as WorkerChildSettings;
const mongo = new MongoClient(settings.mongodbUrl);
const support = createSupportPool(settings.supportUrl);
try {
  const result = await runWorker(
    {
      runId: `child-${process.pid}`,
      planId: null,
      entry: collection(settings.collection),
      devices: [{ idDevice: settings.idDevice, lastLogDate: new Date(settings.lastLogDate) }],
    },
    {
      source: mongo.db(settings.database),
      store: new S3ObjectStore({ client: motoClient(), bucket: settings.bucket }),
      state: postgresIngestState(support),
    },
    { rowGroupSize: settings.rowGroupSize },
  );
  console.log(JSON.stringify(result));
} finally {
  await support.end();
  await mongo.close();
}
