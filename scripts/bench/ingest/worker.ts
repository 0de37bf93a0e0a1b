/**
 * Child `worker`: `runWorker` end to end over the collection's devices into a folder store, on a
 * fresh support database (every device due), default options, under the worker function's
 * NODE_OPTIONS (the parent sets the flags). The ledger is wrapped to time its group commits;
 * memory is sampled while it runs.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { runWorker } from "../../../pipeline/ingest/worker.js";
import { LocalObjectStore } from "../../../pipeline/lake/local-store.js";
import { collection } from "../../../pipeline/schema/index.js";
import { postgresIngestState } from "../../../pipeline/support/ingest-state.js";
import { createSupportPool } from "../../../pipeline/support/pool.js";
import { type Context, targetsOf } from "./context.js";
import { timedLedger } from "./ingest-state.js";
import { timed } from "./measure.js";
import type { WorkerReport } from "./reports.js";
import { peakRssMiB, rssMiB, sampleMemory } from "./rss.js";
import { openSource } from "./source.js";

export async function workerRun(ctx: Context): Promise<WorkerReport> {
  const entry = collection(ctx.collection);
  const { client, db } = await openSource(ctx);
  const support = createSupportPool(ctx.supportUrl);
  try {
    await support.query("SELECT 1");
    let commitMs = 0;
    let commitGroups = 0;
    const state = timedLedger(postgresIngestState(support), ({ ms }) => {
      commitMs += ms;
      commitGroups++;
    });
    const store = new LocalObjectStore(join(ctx.dir, "lake"));
    const setupRssMiB = rssMiB();
    const memory = sampleMemory();
    const { value: result, timing } = await timed(() =>
      runWorker(
        { runId: `bench-${randomUUID()}`, planId: null, entry, devices: targetsOf(ctx) },
        { source: db, store, state },
      ),
    ).finally(() => memory.stop());
    const oldSpace = process.execArgv.find((a) => a.startsWith("--max-old-space-size="));
    return {
      documents: result.documentsRead,
      rows: result.rowsWritten,
      quarantined: result.documentsQuarantined,
      windows: result.windows,
      objectBytes: result.bytesUploaded,
      complete: result.complete,
      run: timing,
      commitMs,
      commitGroups,
      setupRssMiB,
      peakRssMiB: peakRssMiB(),
      atPeak: memory.atPeak(),
      maxOldSpaceMiB: oldSpace ? Number(oldSpace.split("=")[1]) : null,
    };
  } finally {
    await support.end();
    await client.close();
  }
}
