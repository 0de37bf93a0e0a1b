/**
 * The cutover's bookmarks (docs/design.md §6): the snapshot's `lastts` rows carry over to
 * production unchanged, except where they claim more than production has: a bookmark past
 * production's `device.last_log_date` (its completeness mark, floored to the collection's slots)
 * moves back to it. The stretch in between is read again from production and merges on the
 * natural key, so nothing is doubled; a bookmark left ahead would skip whatever production adds
 * there later. The rest is reported: devices production does not know keep their bookmarks (they
 * are simply not planned), devices production has without a bookmark are loaded from their first
 * document by the first plan, and a device without `last_log_date` is not planned until it has one.
 */
import { deviceIdOf } from "../ingest/device-ids.js";
import type { DeviceRow } from "../ingest/plan.js";
import { completeUntil } from "../ingest/windows.js";
import { collection as entryOf } from "../schema/registry.js";
import type { SqlRunner } from "../support/pool.js";

export interface Bookmark {
  readonly idDevice: number;
  readonly collection: string;
  readonly lastts: Date;
}

export interface MovedBookmark extends Bookmark {
  /** Where the bookmark goes: production's `last_log_date`, floored to the collection's slots. */
  readonly to: Date;
}

export interface BookmarkReview {
  readonly unchanged: number;
  readonly moved: readonly MovedBookmark[];
  /** Devices with bookmarks that production's `ddc` does not have. */
  readonly unknown: readonly number[];
  /** Production devices without a `last_log_date`: bookmarks kept, not planned until it is set. */
  readonly withoutMark: readonly number[];
  /** Production devices without any bookmark. */
  readonly added: readonly number[];
}

export function reviewBookmarks(
  bookmarks: readonly Bookmark[],
  production: readonly DeviceRow[],
): BookmarkReview {
  const marks = new Map(production.map((d) => [d.idDevice, d.lastLogDate]));
  const moved: MovedBookmark[] = [];
  const unknown = new Set<number>();
  const withoutMark = new Set<number>();
  let unchanged = 0;
  for (const b of bookmarks) {
    if (!marks.has(b.idDevice)) {
      unknown.add(b.idDevice);
      unchanged++;
      continue;
    }
    const mark = marks.get(b.idDevice) ?? null;
    if (mark === null) {
      withoutMark.add(b.idDevice);
      unchanged++;
      continue;
    }
    const to = completeUntil(mark, entryOf(b.collection).alignMs);
    if (b.lastts.getTime() > to.getTime()) moved.push({ ...b, to });
    else unchanged++;
  }
  const bookmarked = new Set(bookmarks.map((b) => b.idDevice));
  const byId = (a: number, b: number) => a - b;
  return {
    unchanged,
    moved,
    unknown: [...unknown].sort(byId),
    withoutMark: [...withoutMark].sort(byId),
    added: production
      .map((d) => d.idDevice)
      .filter((d) => !bookmarked.has(d))
      .sort(byId),
  };
}

/** Every bookmark of the support database. */
export async function readBookmarks(db: SqlRunner): Promise<Bookmark[]> {
  const { rows } = await db.query<{ id_device: string; collection: string; lastts: Date }>(
    "SELECT id_device, collection, lastts FROM lastts ORDER BY collection, id_device",
  );
  return rows.map((r) => ({ idDevice: deviceIdOf(r.id_device), collection: r.collection, lastts: r.lastts }));
}

/**
 * Sets these bookmarks, all or none: one statement. The cutover moves bookmarks with it, and its
 * rollback puts the logged ones back. Only rows that still hold `from` change, so a step run twice
 * (or after someone else moved a bookmark) changes nothing it should not.
 * @returns the bookmarks changed.
 */
export async function setBookmarks(
  db: SqlRunner,
  changes: readonly {
    readonly idDevice: number;
    readonly collection: string;
    readonly from: Date;
    readonly to: Date;
  }[],
): Promise<number> {
  if (!changes.length) return 0;
  const { rows } = await db.query<{ id_device: string }>(
    `UPDATE lastts AS l SET lastts = c.to_ts
     FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS c(id_device, collection, from_ts, to_ts)
     WHERE l.id_device = c.id_device AND l.collection = c.collection AND l.lastts = c.from_ts
     RETURNING l.id_device`,
    [
      changes.map((c) => c.idDevice),
      changes.map((c) => c.collection),
      changes.map((c) => c.from),
      changes.map((c) => c.to),
    ],
  );
  return rows.length;
}
