/**
 * Child `duckdb`: DuckDB writing the same NDJSON rows as Parquet, the same compression and
 * row-group size as our writer: `COPY (SELECT * FROM read_json(...)) TO ...` on 1 thread and on
 * all, and `COPY table` from rows already in memory (encode and write only).
 */
import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { PARQUET_WRITER_OPTIONS } from "../../../pipeline/lake/parquet-file.js";
import { type ColumnType, collection } from "../../../pipeline/schema/index.js";
import type { Context } from "./context.js";
import type { DuckReport, DuckRun } from "./reports.js";
import { peakRssMiB } from "./rss.js";

/** Row-group size of both writers, so DuckDB flushes as often as the worker does. */
export const ROW_GROUP = PARQUET_WRITER_OPTIONS.rowGroupSize;

/** DuckDB type of each lake column type (timestamps: the NDJSON holds ISO strings in UTC). */
export const DUCK_TYPE = {
  string: "VARCHAR",
  json: "VARCHAR",
  int32: "INTEGER",
  int64: "BIGINT",
  float64: "DOUBLE",
  boolean: "BOOLEAN",
  timestamp: "TIMESTAMP",
} as const satisfies Record<ColumnType, string>;

/** A SQL string literal. */
export const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export async function duckdbCopy(ctx: Context): Promise<DuckReport> {
  // A native add-on, loaded from node_modules (never bundled), and only by this child.
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const entry = collection(ctx.collection);
  const columns = entry.columns
    .map((c) => `${sqlString(c.name)}: ${sqlString(DUCK_TYPE[c.type])}`)
    .join(", ");
  const source = `read_json(${sqlString(join(ctx.dir, "rows.ndjson"))}, format = 'newline_delimited', columns = {${columns}})`;
  const options = `(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP})`;
  let version = "";

  const run = async (threads: number, from: "json" | "table"): Promise<DuckRun> => {
    const instance = await DuckDBInstance.create(":memory:", { threads: String(threads) });
    const conn = await instance.connect();
    try {
      version = String((await conn.runAndReadAll("SELECT version() AS v")).getRowObjectsJS()[0]?.v);
      const out = join(ctx.dir, `duckdb-${from}-${threads}.parquet`);
      let query = `COPY (SELECT * FROM ${source}) TO ${sqlString(out)} ${options}`;
      if (from === "table") {
        await conn.run(`CREATE TABLE t AS SELECT * FROM ${source}`);
        query = `COPY t TO ${sqlString(out)} ${options}`;
      }
      const t0 = performance.now();
      const result = await conn.runAndReadAll(query);
      const ms = performance.now() - t0;
      const rows = Number(result.getRowsJS()[0]?.[0] ?? Number.NaN);
      return { threads, rows, ms, fileBytes: (await stat(out)).size };
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  };
  // The file is in the page cache already (the stages run just wrote it), so the order is fair.
  const json1 = await run(1, "json");
  const jsonAll = await run(availableParallelism(), "json");
  const table1 = await run(1, "table");
  return { version, json1, jsonAll, table1, peakRssMiB: peakRssMiB() };
}
