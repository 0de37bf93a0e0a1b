/**
 * Child `cursor`: the ceiling the worker is compared with. `runWorker` itself, over the same
 * devices, with a source whose scans read every document (decoded by the driver) and hand the
 * worker none: the worker's queries (first-pass probes, the untimed scan where an edge is
 * untimed, one query per window it cuts up to `last_log_date`), cursor options and device
 * concurrency, and nothing done per document. No ledger (every device is new), no object.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_DEVICE_CONCURRENCY, runWorker } from "../../../pipeline/ingest/worker.js";
import { collection } from "../../../pipeline/schema/index.js";
import { type Context, targetsOf } from "./context.js";
import { NO_LEDGER } from "./ingest-state.js";
import { timed } from "./measure.js";
import type { CursorReport } from "./reports.js";
import { peakRssMiB } from "./rss.js";
import { openSource, readThrough } from "./source.js";
import { DiscardStore } from "./stores.js";

export async function cursorRead(ctx: Context): Promise<CursorReport> {
  const entry = collection(ctx.collection);
  const { client, db } = await openSource(ctx);
  try {
    // Warm-up, untimed: open the pool's connections (and FerretDB's) with cheap queries.
    const coll = db.collection(entry.name);
    await Promise.all(
      Array.from({ length: DEFAULT_DEVICE_CONCURRENCY }, () => coll.findOne({}, { projection: { _id: 1 } })),
    );
    let documents = 0;
    const source = readThrough(db, {
      one: (read) => read(),
      async scan(real, filter, options) {
        for await (const _ of real.find(filter, options)) documents++;
        return [];
      },
    });
    const { value: result, timing } = await timed(() =>
      runWorker(
        { runId: `bench-cursor-${randomUUID()}`, planId: null, entry, devices: targetsOf(ctx) },
        { source, store: new DiscardStore(), state: NO_LEDGER },
      ),
    );
    return {
      queries: result.queriesRun,
      windows: result.windows,
      documents,
      decoded: timing,
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    await client.close();
  }
}
