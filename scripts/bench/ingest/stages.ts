/**
 * Child `stages`: the worker's path again, one device at a time (`runWorker` with concurrency 1,
 * on a second fresh support database), each stage timed on its own through the doubles around it:
 *
 * - probes:  the first pass's edge probes, and the untimed scan when an edge is untimed;
 * - fetch:   each window query the worker runs, as a raw cursor drained at once (gives the bytes);
 * - decode:  BSON → documents, which the source then hands the worker;
 * - extract: the rest of the run: `extractWindow` on those documents (validation, the pivot of
 *            `variable_logs`, the Parquet encode, interleaved as the worker runs them) and the
 *            worker's own bookkeeping;
 * - write:   the objects into the folder store (a streamed object is taken whole first);
 * - commit:  the ledger's group commits (one window each: one device at a time).
 *
 * What extract holds is measured again piece by piece, each piece alone on the same data with the
 * production functions: validation (`toLakeRow`, or the slot schema) and the pivot (`pivotRows`)
 * on each window's documents before the worker gets them, the encode (`writeParquetObject`) on
 * each object's rows read back after the run. Their sum is not extract: interleaved, they share
 * the JIT warm-up, the garbage collector and the generators between them. Then, outside any
 * timing, the rows go to NDJSON, the input of the encode and DuckDB children, and what the server
 * answered (kept raw as it came) to the recording the replay child feeds the worker (replay.ts).
 */
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { isDeepStrictEqual } from "node:util";
import { deserialize, serialize } from "bson";
import type { Collection, Document, Filter, FindOptions } from "mongodb";
import { DocumentValidationError } from "../../../pipeline/errors.js";
import { type PivotSlot, pivotRows } from "../../../pipeline/ingest/pivot.js";
import { untimedQuery } from "../../../pipeline/ingest/queries.js";
import { runWorker } from "../../../pipeline/ingest/worker.js";
import { LocalObjectStore } from "../../../pipeline/lake/local-store.js";
import { writeParquetObject } from "../../../pipeline/lake/parquet-object.js";
import { type CollectionEntry, collection, toLakeRow } from "../../../pipeline/schema/index.js";
import { postgresIngestState } from "../../../pipeline/support/ingest-state.js";
import { createSupportPool } from "../../../pipeline/support/pool.js";
import { type Context, targetsOf } from "./context.js";
import { timedLedger } from "./ingest-state.js";
import { addServerCpu, type ServerCpu, timed } from "./measure.js";
import { Recording, recordingPath } from "./replay.js";
import type { StagesReport } from "./reports.js";
import { fromArray, NdjsonWriter, readObjectRows } from "./rows.js";
import { peakRssMiB } from "./rss.js";
import { openSource, readThrough } from "./source.js";
import { DiscardStore, StagedStore } from "./stores.js";

/**
 * Milliseconds of validation and of the pivot, each alone, on one window's documents. The worker
 * validates `variable_logs` slots with their schema and pivots them, every other collection's
 * documents with `toLakeRow` (pipeline/ingest/extract.ts).
 */
async function validateAndPivotAlone(
  entry: CollectionEntry,
  idDevice: number,
  docs: readonly Document[],
): Promise<{ validate: number; pivot: number }> {
  const t0 = performance.now();
  const reshape = entry.reshape;
  if (reshape?.kind !== "pivot") {
    for (const doc of docs) {
      try {
        toLakeRow(entry, doc);
      } catch (error) {
        if (!(error instanceof DocumentValidationError)) throw error;
      }
    }
    return { validate: performance.now() - t0, pivot: 0 };
  }
  const slots: PivotSlot[] = [];
  for (const doc of docs) {
    const parsed = reshape.slot.safeParse(doc);
    if (parsed.success) slots.push(parsed.data as PivotSlot);
  }
  const validate = performance.now() - t0;
  const t1 = performance.now();
  for await (const _ of pivotRows(entry, idDevice, fromArray(slots)));
  return { validate, pivot: performance.now() - t1 };
}

export async function stagesRun(ctx: Context): Promise<StagesReport> {
  const entry = collection(ctx.collection);
  const { client, db } = await openSource(ctx);
  const support = createSupportPool(ctx.stagesSupportUrl);
  const folder = new LocalObjectStore(join(ctx.dir, "stages"));
  const ndjsonPath = join(ctx.dir, "rows.ndjson");
  const ms = { probe: 0, fetch: 0, decode: 0, write: 0, commit: 0, commitCpu: 0 };
  const alone = { validate: 0, pivot: 0, encode: 0 };
  let bytes = 0;
  let fetchServer: ServerCpu | null = { ferretdbMs: 0, postgresMs: 0 };

  // Time spent in the doubles (source, store, ledger) and their clocks: not the worker's own.
  let aside = 0;
  const apart = async <T>(fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      aside += performance.now() - t0;
    }
  };
  const probe = async <T>(read: () => Promise<T>): Promise<T> => {
    const { value, timing } = await timed(read);
    ms.probe += timing.ms;
    fetchServer = addServerCpu(fetchServer, timing.server);
    return value;
  };
  const isUntimedScan = (filter: Filter<Document>) =>
    isDeepStrictEqual(filter, untimedQuery(entry, filter.idDevice as number).filter);

  // What the server answered, kept for the replay (the worker without the server): outside the
  // clocks, like the rest of the doubles.
  const recording = new Recording();
  const raw = (coll: Collection, filter: Filter<Document>, options: FindOptions) =>
    coll.find(filter, { ...options, raw: true }).toArray() as unknown as Promise<Uint8Array[]>;
  const source = readThrough(db, {
    one: (read, coll, filter, options) =>
      apart(async () => {
        const doc = await probe(read);
        // A probe's answer (limit 1, a projection of dates) survives a decode and encode as it is.
        recording.record(coll.collectionName, filter, options, doc ? [serialize(doc)] : []);
        return doc;
      }),
    scan: (coll, filter, options) =>
      apart(async () => {
        if (isUntimedScan(filter)) {
          const found = await probe(() => raw(coll, filter, options));
          recording.record(coll.collectionName, filter, options, found);
          return found.map((buffer) => deserialize(buffer));
        }
        const fetched = await timed(() => raw(coll, filter, options));
        recording.record(coll.collectionName, filter, options, fetched.value);
        ms.fetch += fetched.timing.ms;
        fetchServer = addServerCpu(fetchServer, fetched.timing.server);
        for (const buffer of fetched.value) bytes += buffer.byteLength;
        const t0 = performance.now();
        const decoded = fetched.value.map((buffer) => deserialize(buffer));
        ms.decode += performance.now() - t0;
        const piece = await validateAndPivotAlone(entry, filter.idDevice as number, decoded);
        alone.validate += piece.validate;
        alone.pivot += piece.pivot;
        return decoded;
      }),
  });
  const store = new StagedStore(folder, (write) =>
    apart(async () => {
      const t0 = performance.now();
      try {
        return await write();
      } finally {
        ms.write += performance.now() - t0;
      }
    }),
  );

  try {
    await support.query("SELECT 1");
    const ledger = timedLedger(
      postgresIngestState(support),
      (commit) => {
        ms.commit += commit.ms;
        ms.commitCpu += commit.cpuMs;
      },
      apart,
    );
    const t0 = performance.now();
    const result = await runWorker(
      { runId: `bench-stages-${randomUUID()}`, planId: null, entry, devices: targetsOf(ctx) },
      { source, store, state: ledger },
      { concurrency: 1 },
    );
    const extract = performance.now() - t0 - aside;

    // Outside the run: each object's rows, read back, encoded again alone and dumped to NDJSON.
    const out = new NdjsonWriter(ndjsonPath);
    const discard = new DiscardStore();
    try {
      for await (const { key } of folder.list(`${entry.name}/`)) {
        const rows = await readObjectRows(entry, await folder.get(key));
        const e0 = performance.now();
        await writeParquetObject(entry, fromArray(rows), discard, key);
        alone.encode += performance.now() - e0;
        await out.write(rows);
      }
    } finally {
      await out.close();
    }

    await recording.write(recordingPath(ctx));
    return {
      documents: result.documentsRead,
      recording: { queries: recording.size, bytes: recording.bytes },
      bytes,
      rows: result.rowsWritten,
      windows: result.windows,
      ms: { ...ms, extract },
      alone,
      fetchServer,
      ndjsonBytes: (await stat(ndjsonPath)).size,
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    await support.end();
    await client.close();
  }
}
