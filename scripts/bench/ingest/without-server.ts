/**
 * The worker without the server (replay.ts): two children.
 *
 * - record: `runWorker` over the real database through a source that keeps every answer raw
 *           (a cursor read's worth of FerretDB work, untimed), with nothing kept of the run: a
 *           discarding store and no ledger. The recording goes to the collection's folder. The
 *           scaling runs use it; for the collections, the stages child records as it fetches.
 * - replay: `runWorker` fed that recording from memory, once untimed and once measured (the first
 *           pass warms the process up, as a function's thousands of windows do; the peak RSS is
 *           the process's, over both; the scaling runs measure their one pass): no MongoDB, and
 *           the ingestion state as a ledger that takes each group commit and keeps nothing (the
 *           group-commit batching runs, its SQL does not), so no server at all; objects go to a
 *           folder store (local disk, in the page cache), as in the worker child. Under the
 *           worker function's NODE_OPTIONS. Its CPU time (`process.cpuUsage`, every thread of the
 *           process) gives documents and rows per core: what one vCPU sustains whatever the
 *           source's speed.
 *
 * `ctx.windowMs`, when set, is the window of the run (the scaling runs): recorded at the longest,
 * replayed at shorter ones, whose windows are answered from the recorded windows that cover them.
 */
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { runWorker } from "../../../pipeline/ingest/worker.js";
import { LocalObjectStore } from "../../../pipeline/lake/local-store.js";
import { collection } from "../../../pipeline/schema/index.js";
import { type Context, MiB, targetsOf } from "./context.js";
import { NO_LEDGER } from "./ingest-state.js";
import { timed } from "./measure.js";
import { Recording, recordingPath, recordingSource, replaySource } from "./replay.js";
import type { RecordReport, ReplayReport } from "./reports.js";
import { peakRssMiB, rssMiB, sampleMemory } from "./rss.js";
import { openSource } from "./source.js";
import { DiscardStore } from "./stores.js";

export async function recordRun(ctx: Context): Promise<RecordReport> {
  const entry = collection(ctx.collection);
  const { client, db } = await openSource(ctx);
  try {
    const recording = new Recording();
    const { value: result, timing } = await timed(() =>
      runWorker(
        { runId: `bench-record-${randomUUID()}`, planId: null, entry, devices: targetsOf(ctx) },
        { source: recordingSource(db, recording), store: new DiscardStore(), state: NO_LEDGER },
        ctx.windowMs === undefined ? {} : { windowMs: ctx.windowMs },
      ),
    );
    await recording.write(recordingPath(ctx));
    return {
      queries: recording.size,
      documents: result.documentsRead,
      windows: result.windows,
      bytes: recording.bytes,
      ms: timing.ms,
    };
  } finally {
    await client.close();
  }
}

export async function replayRun(ctx: Context): Promise<ReplayReport> {
  const entry = collection(ctx.collection);
  const recording = await Recording.read(recordingPath(ctx));
  const sourceOptions = ctx.windowMs === undefined ? {} : { splitWindows: entry };
  const workerOptions = ctx.windowMs === undefined ? {} : { windowMs: ctx.windowMs };
  const replay = (label: string, store: LocalObjectStore, source = replaySource(recording, sourceOptions)) =>
    runWorker(
      { runId: `bench-${label}-${randomUUID()}`, planId: null, entry, devices: targetsOf(ctx) },
      { source, store, state: NO_LEDGER },
      workerOptions,
    );
  const dir = join(ctx.dir, `replay-${ctx.windowMs ?? "default"}`);
  const store = new LocalObjectStore(dir);
  try {
    // One untimed pass first: an invocation of the function works through thousands of windows,
    // so its rate is the warmed-up one (modules loaded, code compiled); the bench replays a few
    // dozen, of which the first ones would otherwise carry that start-up (model: its own line).
    // Not for the scaling runs: they compare window sizes each from a fresh process, and a
    // second pass of 2 windows against one of 32 would compare garbage left over, not windows.
    if (ctx.windowMs === undefined) {
      const warmup = join(ctx.dir, "replay-default-warmup");
      await replay("replay-warmup", new LocalObjectStore(warmup));
      await rm(warmup, { recursive: true, force: true });
    }
    const source = replaySource(recording, sourceOptions);
    const setupRssMiB = rssMiB();
    const memory = sampleMemory();
    const { value: result, timing } = await timed(() => replay("replay", store, source)).finally(() =>
      memory.stop(),
    );
    return {
      windowMs: ctx.windowMs ?? null,
      documents: result.documentsRead,
      rows: result.rowsWritten,
      quarantined: result.documentsQuarantined,
      windows: result.windows,
      objectBytes: result.bytesUploaded,
      run: timing,
      recordingMiB: recording.bytes / MiB,
      answers: { ...source.stats },
      setupRssMiB,
      peakRssMiB: peakRssMiB(),
      atPeak: memory.atPeak(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
