/**
 * A content checksum of a loaded snapshot: every `ddc` row and every document, in key order.
 * Two loads with the same config must give the same checksum (the generator's determinism,
 * checked end to end through both databases).
 */
import { createHash } from "node:crypto";
import { EJSON } from "bson";
import { SOURCE_COLLECTIONS } from "./documents.js";
import { DDC_TABLES } from "./postgres.js";
import type { SnapshotTargets } from "./targets.js";
import type { DdcTableName, SourceCollection } from "./types.js";

export interface SnapshotChecksum {
  readonly tables: Record<DdcTableName, string>;
  readonly collections: Record<SourceCollection, string>;
  /** Hash of all the above: equal iff every table and collection is. */
  readonly total: string;
}

/**
 * Checksum both databases. Sets the session time zone to UTC (row text of `timestamptz`
 * depends on it).
 */
export async function snapshotChecksum(targets: SnapshotTargets): Promise<SnapshotChecksum> {
  const { pg, mongo } = targets;
  await pg.query("SET TIME ZONE 'UTC'");
  const tables = {} as Record<DdcTableName, string>;
  for (const t of DDC_TABLES) {
    const { rows } = await pg.query<{ md5: string }>(
      `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '')) AS md5 FROM ${t} t`,
    );
    tables[t] = rows[0]?.md5 ?? "";
  }
  const collections = {} as Record<SourceCollection, string>;
  for (const c of SOURCE_COLLECTIONS) {
    const hash = createHash("sha256");
    // Canonical extended JSON keeps types (dates, ints vs doubles) and the stored key order.
    for await (const doc of mongo.collection(c).find({}).sort({ _id: 1 })) {
      hash.update(EJSON.stringify(doc, { relaxed: false }));
      hash.update("\n");
    }
    collections[c] = hash.digest("hex");
  }
  const total = createHash("sha256").update(JSON.stringify({ tables, collections })).digest("hex");
  return { tables, collections, total };
}
