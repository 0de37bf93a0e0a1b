/** Child `encode`: our writer (`writeParquetObject`, folder store) on the NDJSON rows, one object. */
import { join } from "node:path";
import { LocalObjectStore } from "../../../pipeline/lake/local-store.js";
import { writeParquetObject } from "../../../pipeline/lake/parquet-object.js";
import { collection } from "../../../pipeline/schema/index.js";
import type { Context } from "./context.js";
import { timed } from "./measure.js";
import type { EncodeReport } from "./reports.js";
import { ndjsonRows } from "./rows.js";
import { peakRssMiB } from "./rss.js";

export async function encodeRows(ctx: Context): Promise<EncodeReport> {
  const entry = collection(ctx.collection);
  const path = join(ctx.dir, "rows.ndjson");
  const parse = await timed(async () => {
    let n = 0;
    for await (const _ of ndjsonRows(path, entry)) n++;
    return n;
  });
  const store = new LocalObjectStore(join(ctx.dir, "ours"));
  const total = await timed(() =>
    writeParquetObject(entry, ndjsonRows(path, entry), store, `${entry.name}/all.parquet`),
  );
  return {
    rows: total.value?.rows ?? 0,
    parse: parse.timing,
    total: total.timing,
    fileBytes: total.value?.bytes ?? 0,
    peakRssMiB: peakRssMiB(),
  };
}
