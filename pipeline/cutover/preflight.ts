/**
 * The cutover's preflight (docs/design.md §6): read-only checks that the production sources can
 * take the pipeline's place of the snapshots. Each check returns problems, not exceptions, so the
 * operator sees all of them at once; the cutover stops when there is any.
 * - `ddc`: every table and column the registry reads exists, with a type postgres_extract reads
 *   without loss (`POSTGRES_SOURCE_TYPES`), and NOT NULL where the registry requires a value.
 * - MongoDB: every collection of the registry exists and has the indexes the worker's queries
 *   need (pipeline/ingest/indexes.ts): without them one worker query scans the collection.
 */
import type { Db } from "mongodb";
import type pg from "pg";
import { type IndexKey, requiredIndexes, serves } from "../ingest/indexes.js";
import { type CollectionEntry, collections, type TableEntry, tables } from "../schema/registry.js";
import { POSTGRES_SOURCE_TYPES } from "../schema/targets.js";

export interface PreflightProblem {
  readonly source: "ddc" | "mongodb";
  /** `table.column`, a table, a collection or an index. */
  readonly subject: string;
  readonly problem: string;
}

interface ColumnRow {
  readonly table_name: string;
  readonly column_name: string;
  readonly data_type: string;
  readonly is_nullable: "YES" | "NO";
}

/** The registry's `ddc` tables against the database's schema (`public`). */
export async function ddcProblems(
  ddc: Pick<pg.ClientBase, "query">,
  entries: readonly TableEntry[] = tables,
): Promise<PreflightProblem[]> {
  const { rows } = await ddc.query<ColumnRow>(
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = ANY($1)`,
    [entries.map((t) => t.name)],
  );
  const found = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r]));
  const problems: PreflightProblem[] = [];
  for (const table of entries) {
    if (!rows.some((r) => r.table_name === table.name)) {
      problems.push({ source: "ddc", subject: table.name, problem: "table missing" });
      continue;
    }
    for (const col of table.columns) {
      const subject = `${table.name}.${col.source}`;
      const have = found.get(subject);
      const accepted: readonly string[] = POSTGRES_SOURCE_TYPES[col.type];
      if (!have) problems.push({ source: "ddc", subject, problem: "column missing" });
      else if (!accepted.includes(have.data_type))
        problems.push({
          source: "ddc",
          subject,
          problem: `is ${have.data_type}; the registry reads ${col.type} from ${accepted.join(" or ")}`,
        });
      else if (!col.nullable && have.is_nullable === "YES")
        problems.push({ source: "ddc", subject, problem: "may be NULL; the registry requires a value" });
    }
  }
  return problems;
}

/** The registry's collections against the database: each exists, with the worker's indexes. */
export async function mongodbProblems(
  db: Db,
  entries: readonly CollectionEntry[] = collections,
): Promise<PreflightProblem[]> {
  const names = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  const problems: PreflightProblem[] = [];
  for (const entry of entries) {
    if (!names.has(entry.name)) {
      problems.push({ source: "mongodb", subject: entry.name, problem: "collection missing" });
      continue;
    }
    const indexes = await db.collection(entry.name).listIndexes().toArray();
    for (const want of requiredIndexes(entry))
      if (!indexes.some((have) => serves(have as Parameters<typeof serves>[0], want)))
        problems.push({
          source: "mongodb",
          subject: `${entry.name} ${describe(want)}`,
          problem: "index missing: the worker's range query would scan the collection",
        });
  }
  return problems;
}

const describe = (index: IndexKey) => JSON.stringify(index.key);
