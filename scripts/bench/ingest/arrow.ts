/**
 * pyarrow writing the same rows (the stages run's NDJSON) as Parquet, SNAPPY, with our row-group
 * size: the reference for the raw layer's bytes on disk (scripts/bench/pyarrow_parquet.py, in the
 * project's venv). Run by the parent, not a Node child: it measures bytes, not Node.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { collection } from "../../../pipeline/schema/index.js";
import { type Context, ROOT } from "./context.js";
import { ROW_GROUP } from "./duckdb.js";
import type { ArrowReport } from "./reports.js";

const run = promisify(execFile);

export async function pyarrowWrite(ctx: Context): Promise<ArrowReport> {
  const columns = collection(ctx.collection).columns.map((c) => ({ name: c.name, type: c.type }));
  const { stdout } = await run(
    join(ROOT, ".local", "venv", "bin", "python"),
    [
      join(ROOT, "scripts", "bench", "pyarrow_parquet.py"),
      join(ctx.dir, "rows.ndjson"),
      join(ctx.dir, "pyarrow.parquet"),
      String(ROW_GROUP),
      JSON.stringify(columns),
    ],
    { maxBuffer: 1024 * 1024 },
  );
  return JSON.parse(stdout) as ArrowReport;
}
