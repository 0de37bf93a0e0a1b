/**
 * What changed in the source since the last reconcile, without re-reading history: documents
 * inserted since, found by `_id` (an ObjectId begins with its insertion time, and the `_id`
 * index serves the range). Their days are checked again whatever their timestamp, which is how a
 * late arrival below the bookmark is found. A document whose `_id` is not an ObjectId has no
 * insertion time: only a full reconcile (`mode: full`) sees it.
 *
 * Watermarks are read back a margin early: ObjectIds are made by each writer's clock, and a
 * writer whose clock runs behind inserts ids below ones already seen.
 */
import { type Db, type Document, ObjectId } from "mongodb";
import { documentIdOf } from "../errors.js";
import type { CollectionEntry } from "../schema/registry.js";
import { type Day, dayOf } from "./days.js";
import { lookBehindMs } from "./source.js";

/** How far before the watermark the next scan starts. */
export const WATERMARK_MARGIN_MS = 3_600_000;

/** Documents of the scan that no device's day holds. */
export interface Stray {
  readonly id: string | undefined;
  /** Null when the document names no single ddc device. */
  readonly idDevice: number | null;
  readonly day: Day | null;
}

export interface SourceChanges {
  /** Device → days whose documents changed. */
  readonly days: Map<number, Set<Day>>;
  /** Documents of a ddc device without a usable timestamp. */
  readonly untimed: Stray[];
  /** Documents of no ddc device (or several). */
  readonly unknownDevice: Stray[];
  /** Documents of a ddc device without a `last_log_date`: never planned, never extracted. */
  readonly unplanned: Stray[];
  /** The highest `_id` seen (hex), the next watermark; the old one when nothing was inserted. */
  readonly watermark: string | undefined;
  readonly documents: number;
}

/** The newest ObjectId of a collection (hex), where a first full reconcile starts watching. */
export async function newestObjectId(db: Db, entry: CollectionEntry): Promise<string | undefined> {
  const [doc] = await db
    .collection(entry.name)
    .find({ _id: { $type: "objectId" } }, { projection: { _id: 1 }, sort: { _id: -1 }, limit: 1 })
    .toArray();
  return doc ? (doc._id as ObjectId).toHexString() : undefined;
}

/**
 * Documents of `entry` inserted since `watermark` (hex ObjectId), by device and day. `known` are
 * the ddc devices, `planned` those of them with a `last_log_date`. With `devices`, only their
 * documents are read (a reconcile shard's, ADR 0025: the server filters, so each shard receives
 * its share of the increment instead of all of it), and the next watermark is the collection's
 * newest id taken before the read, so a shard whose devices were quiet still moves on.
 */
export async function sourceChanges(
  db: Db,
  entry: CollectionEntry,
  watermark: string,
  known: ReadonlySet<number>,
  planned: ReadonlySet<number>,
  devices?: readonly number[],
): Promise<SourceChanges> {
  const ts = entry.sourceTimestampField;
  const since = ObjectId.createFromTime(
    Math.max(0, Math.floor((new ObjectId(watermark).getTimestamp().getTime() - WATERMARK_MARGIN_MS) / 1000)),
  );
  const days = new Map<number, Set<Day>>();
  const untimed: Stray[] = [];
  const unknownDevice: Stray[] = [];
  const unplanned: Stray[] = [];
  let newest = watermark;
  if (devices) {
    const before = await newestObjectId(db, entry);
    if (before && before > newest) newest = before;
  }
  let documents = 0;
  const reach = lookBehindMs(entry);
  const filter = devices
    ? { _id: { $gte: since }, idDevice: { $in: [...devices] } }
    : { _id: { $gte: since } };
  const cursor = db
    .collection(entry.name)
    .find(filter, { projection: { _id: 1, idDevice: 1, [ts]: 1 }, batchSize: 5000 });
  for await (const doc of cursor as AsyncIterable<Document>) {
    documents++;
    const hex = (doc._id as ObjectId).toHexString();
    if (hex > newest) newest = hex;
    const at = doc[ts];
    const device = typeof doc.idDevice === "number" && known.has(doc.idDevice) ? doc.idDevice : null;
    const day = at instanceof Date ? dayOf(at) : null;
    if (device === null) unknownDevice.push({ id: documentIdOf(doc), idDevice: null, day });
    else if (!planned.has(device)) unplanned.push({ id: documentIdOf(doc), idDevice: device, day });
    else if (!(at instanceof Date)) untimed.push({ id: documentIdOf(doc), idDevice: device, day: null });
    else {
      let set = days.get(device);
      if (!set) {
        set = new Set();
        days.set(device, set);
      }
      set.add(day as Day);
      // A slot's readings reach past its start's day.
      if (reach) set.add(dayOf(at.getTime() + reach - 1));
    }
  }
  return { days, untimed, unknownDevice, unplanned, watermark: newest, documents };
}
