/**
 * `snapshot show`: what is loaded: the generator's state, rows per `ddc` table and documents
 * per collection.
 */
import { formatTable } from "../cli/table.js";
import { SOURCE_COLLECTIONS } from "./documents.js";
import { countDocuments } from "./mongo.js";
import { countRows, readState, type SnapshotState } from "./postgres.js";
import type { SnapshotTargets } from "./targets.js";
import { iso } from "./time.js";
import type { DdcTableName, SourceCollection } from "./types.js";

export interface SnapshotSummary {
  /** Null when nothing was loaded (or a load did not finish). */
  readonly state: SnapshotState | null;
  /** Null when the tables do not exist. */
  readonly rows: Record<DdcTableName, number> | null;
  /** Null when not counted: FerretDB counts by reading every document (minutes at scale). */
  readonly documents: Record<SourceCollection, number> | null;
}

export async function showSnapshot(
  targets: SnapshotTargets,
  options: { readonly countDocuments?: boolean } = {},
): Promise<SnapshotSummary> {
  const { rows: exists } = await targets.pg.query("SELECT to_regclass('device') IS NOT NULL AS ok");
  return {
    state: await readState(targets.pg),
    rows: exists[0]?.ok ? await countRows(targets.pg) : null,
    documents: (options.countDocuments ?? true) ? await countDocuments(targets.mongo) : null,
  };
}

/** Two columns, names and counts (numbers right-aligned), under a title. */
export function formatCounts(
  title: string,
  entries: readonly (readonly [string, number | string])[],
): string {
  return formatTable([{ header: title }, { header: "", align: "right" }], entries, { indent: 0 });
}

/** The summary as printed by `snapshot show`. */
export function formatSummary(summary: SnapshotSummary): string {
  const { state, rows, documents } = summary;
  const head = state
    ? [
        `clock      ${iso(state.clock)}`,
        `loaded     seed ${state.config.seed}, scale ${state.config.scale}, ${state.config.devices} devices, ` +
          `${state.config.days} days to ${iso(state.config.end)} (generator v${state.version})` +
          (state.config.collections.length < SOURCE_COLLECTIONS.length
            ? `, collections ${state.config.collections.join(",")} only`
            : ""),
      ]
    : ["clock      (no snapshot loaded)"];
  const parts = [head.join("\n")];
  if (rows) {
    const rowTotal = Object.values(rows).reduce((a, b) => a + b, 0);
    parts.push(formatCounts("ddc table", [...Object.entries(rows), ["total", rowTotal]]));
  }
  if (documents) {
    const docTotal = Object.values(documents).reduce((a, b) => a + b, 0);
    parts.push(formatCounts("collection", [...Object.entries(documents), ["total", docTotal]]));
  } else parts.push("collection documents not counted (--no-source-counts)");
  return parts.join("\n\n");
}
