/**
 * What the local Glue jobs did, from the JSON lines each prints on stdout: `postgres_extract` a
 * line per table, `mongodb_curate` one summary with a line per collection. Printed by `npm start`
 * and by the single-job commands (`lakehouse extract`, `curate`).
 */
import { LOCAL_WAREHOUSE } from "./glue-jobs.js";
import { formatTable } from "./table.js";

type Result = Record<string, unknown>;

const right = (header: string) => ({ header, align: "right" as const });
const number = (value: unknown): number | null => (typeof value === "number" ? value : null);

/** A line per table: status, rows written, seconds, and the error of a failed one. */
export function formatExtractResults(results: readonly unknown[]): string {
  const rows = results.filter((r): r is Result => typeof r === "object" && r !== null && "table" in r);
  if (!rows.length) return "postgres_extract printed no table results";
  const table = formatTable(
    [{ header: "table" }, { header: "status" }, right("rows written"), right("seconds"), { header: "error" }],
    rows.map((r) => [
      String(r.table),
      String(r.status ?? "?"),
      number(r.rows_written),
      number(r.seconds),
      r.error ? String(r.error) : "",
    ]),
  );
  return [`postgres_extract → ${LOCAL_WAREHOUSE} (lake.postgres.*)`, table].join("\n");
}

/** A line per collection: rows added, raw objects read, the ledger's move, day counts. */
export function formatCurateResult(result: unknown): string {
  const collections = (result as { collections?: Result[] }).collections ?? [];
  const table = formatTable(
    [
      { header: "collection" },
      right("rows added"),
      right("raw objects"),
      { header: "ledger" },
      right("days counted"),
      right("seconds"),
    ],
    collections.map((c) => [
      String(c.collection),
      number(c.added_records) ?? 0,
      number(c.objects) ?? 0,
      `${String(c.position_before)} → ${String(c.position_after)}`,
      (number(c.days_counted) ?? 0) + (number(c.days_recounted) ?? 0),
      number(c.seconds),
    ]),
  );
  return [`mongodb_curate → ${LOCAL_WAREHOUSE} (lake.mongodb.*)`, table].join("\n");
}
