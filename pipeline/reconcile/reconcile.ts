/**
 * Reconcile (docs/design.md §7): per collection, device and UTC day, the source's due documents
 * (variable_logs: readings) against curated's rows (cells) and quarantine, every difference named
 * with its cause (causes.ts). The user's proof that nothing was lost or doubled.
 *
 * Incremental, so it scales: a reconcile checks the days touched since the last finished one —
 * days the curate job counted since (it touched them), days of source documents inserted since
 * (changes.ts: late arrivals included), days the last one found not in agreement, and days where
 * curated holds open alarms (a reset written late changes no `_id`). The first reconcile, and
 * `mode: full`, check every day of every device. Per device, one index-bounded range query per
 * run of consecutive days; curated's side is the curate job's day counts (`curated_day`), so the
 * lake is never scanned.
 *
 * A document in a window the curate job has not read is in flight while the window's raw object
 * is there; when it is gone (expired or deleted before curate read it), it is `raw_lost`, which a
 * replay repairs (one listing of its key per such object a run).
 *
 * A pass that runs out of time (a function's 15 minutes) stops between groups of devices and
 * records where; the next reconcile continues that pass before starting another, and a
 * collection's watermark moves only when the pass has checked all of its devices.
 *
 * A reconcile checks one shard of the devices (shard.ts, ADR 0025; by default the one shard of
 * all): its passes, resume point and watermarks are the shard's own, and documents of no ddc
 * device are shard 0's.
 */
import type { Db } from "mongodb";
import type pg from "pg";
import type { Logger } from "pino";
import { documentIdOf } from "../errors.js";
import { type Budget, UNLIMITED } from "../ingest/budget.js";
import type { IngestState, OrphanRecords } from "../ingest/ingest-state.js";
import { orphanFilter } from "../ingest/orphans.js";
import { readDevices } from "../ingest/plan-pass.js";
import { EARLIEST_DATE, untimedQuery } from "../ingest/queries.js";
import type { ObjectStore } from "../lake/object-store.js";
import { type CollectionEntry, collections } from "../schema/registry.js";
import { CAUSES, type Cause, type Finding, isDifference } from "./causes.js";
import { newestObjectId, type SourceChanges, type Stray, sourceChanges } from "./changes.js";
import { type Day, dayOf, dayRanges, dayStart } from "./days.js";
import { repair } from "./repair.js";
import { inShard, type Shard, WHOLE } from "./shard.js";
import { tallyDevice } from "./source.js";
import type { ReconcileStore, ResumePoint } from "./store.js";
import { compareDay, type DayTally, emptyDay, NOTHING_CURATED, needsQuarantine } from "./tally.js";

export interface ReconcileDeps {
  readonly source: Db;
  readonly ddc: pg.Pool | pg.ClientBase;
  readonly store: ReconcileStore;
  /** The ingestion's state: bookmarks, and the repair's commits. */
  readonly state: IngestState & OrphanRecords;
  /** The raw layer: the repair writes replayed windows and quarantined copies there. */
  readonly objects: ObjectStore;
  readonly log?: Logger;
}

export interface ReconcileOptions {
  readonly runId: string;
  readonly mode: "auto" | "full" | "incremental";
  readonly repair: boolean;
  /** Collections to check (default: every collection of the registry). */
  readonly collections?: readonly string[];
  /** Devices read from the source at once. */
  readonly concurrency?: number;
  /** Time left (a Lambda's); the pass stops between devices and the next run continues it. */
  readonly budget?: Budget;
  /** Start no group of devices with less than this left (default one minute). */
  readonly safetyMarginMs?: number;
  /** The devices to check (default: all, one shard of one). */
  readonly shard?: Shard;
}

export interface ReconcileReport {
  readonly reconcileId: number;
  /** The pass this run belongs to (its first run's id). */
  readonly passId: number;
  readonly shard: Shard;
  readonly mode: "full" | "incremental";
  /** False when the time budget ran out: the next reconcile continues the pass. */
  readonly complete: boolean;
  readonly daysChecked: number;
  readonly findings: readonly Finding[];
  /** Findings that are differences (not accounted for by quarantine or work in flight). */
  readonly differences: number;
  /** Units accounted for, by cause. */
  readonly quarantined: number;
  readonly inFlight: number;
  /** Findings per cause. */
  readonly byCause: Readonly<Partial<Record<Cause, number>>>;
  readonly windowsReplayed: number;
  readonly documentsQuarantinedByRepair: number;
  readonly queriesRun: number;
  /** Documents an incremental run read to find the touched days (a shard: its share). */
  readonly incrementRead: number;
}

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_SAFETY_MARGIN_MS = 60_000;

/** Device → days to check; `null`: every day of the device. */
type Scope = Map<number, Set<Day> | null>;

function addDay(scope: Scope, idDevice: number, day: Day): void {
  if (!scope.has(idDevice)) scope.set(idDevice, new Set());
  scope.get(idDevice)?.add(day);
}

/** Source documents of no device's day, each either in quarantine or a difference. */
async function strayFindings(
  store: ReconcileStore,
  collection: string,
  strays: readonly Stray[],
  cause: "unusable_timestamp" | "unknown_device" | "unplanned_device",
): Promise<Finding[]> {
  if (!strays.length) return [];
  const quarantined = await store.quarantinedIds(
    collection,
    strays.flatMap((s) => (s.id === undefined ? [] : [s.id])),
  );
  const groups = new Map<string, { idDevice: number | null; day: Day | null; held: number; open: number }>();
  for (const s of strays) {
    const key = `${s.idDevice}|${s.day}`;
    const g = groups.get(key) ?? { idDevice: s.idDevice, day: s.day, held: 0, open: 0 };
    groups.set(key, g);
    if (s.id !== undefined && quarantined.has(s.id)) g.held++;
    else g.open++;
  }
  const out: Finding[] = [];
  for (const g of groups.values()) {
    const base = {
      collection,
      idDevice: g.idDevice,
      day: g.day,
      source: g.held + g.open,
      curated: 0,
      inFlight: 0,
    };
    if (g.held)
      out.push({
        ...base,
        cause: "quarantined",
        count: g.held,
        quarantined: g.held,
        detail: CAUSES[cause].meaning,
      });
    if (g.open)
      out.push({ ...base, cause, count: g.open, quarantined: g.held, detail: CAUSES[cause].meaning });
  }
  return out;
}

type Strays = Pick<SourceChanges, "untimed" | "unknownDevice" | "unplanned">;

/**
 * A full reconcile's strays: every untimed document of the planned devices, every orphan, every
 * document of a device never planned (one index seek each).
 */
async function allStrays(
  db: Db,
  entry: CollectionEntry,
  devices: readonly number[],
  known: readonly number[],
  shard: Shard,
): Promise<Strays> {
  const coll = db.collection(entry.name);
  const untimed: Stray[] = [];
  for (const idDevice of devices) {
    const q = untimedQuery(entry, idDevice);
    for await (const doc of coll.find(q.filter, { projection: { _id: 1 }, sort: q.sort }))
      untimed.push({ id: documentIdOf(doc), idDevice, day: null });
  }
  const unknownDevice: Stray[] = [];
  if (shard.index === 0)
    for await (const doc of coll.find(orphanFilter(known), { projection: { _id: 1 } }))
      unknownDevice.push({ id: documentIdOf(doc), idDevice: null, day: null });
  const planned = new Set(devices);
  const unplanned: Stray[] = [];
  for (const idDevice of known.filter((d) => !planned.has(d) && inShard(shard, d)))
    for await (const doc of coll.find({ idDevice }, { projection: { _id: 1 } }))
      unplanned.push({ id: documentIdOf(doc), idDevice, day: null });
  return { untimed, unknownDevice, unplanned };
}

/**
 * Days of the documents open in the source (alarm: not reset), device by device: an alarm
 * re-opened in the source changes no `_id` and no curated day, so its day is found here. One
 * index seek per device on `{idDevice, resetTS}`, the index the worker's alarm query uses.
 */
async function openInSource(
  db: Db,
  entry: CollectionEntry,
  devices: readonly number[],
): Promise<[number, Day][]> {
  const field = entry.updatedField as string;
  const ts = entry.sourceTimestampField;
  const out: [number, Day][] = [];
  for (const idDevice of devices) {
    const cursor = db
      .collection(entry.name)
      .find({ idDevice, [field]: null, [ts]: { $gte: EARLIEST_DATE } }, { projection: { _id: 0, [ts]: 1 } });
    for await (const doc of cursor) out.push([idDevice, dayOf(doc[ts] as Date)]);
  }
  return out;
}

/** The part of a scan's changes that is the shard's. */
function shardChanges(changes: SourceChanges, shard: Shard): SourceChanges {
  if (shard.count === 1) return changes;
  const ours = (s: Stray) => s.idDevice !== null && inShard(shard, s.idDevice);
  return {
    ...changes,
    days: new Map([...changes.days].filter(([d]) => inShard(shard, d))),
    untimed: changes.untimed.filter(ours),
    unplanned: changes.unplanned.filter(ours),
    unknownDevice: shard.index === 0 ? changes.unknownDevice : [],
  };
}

/** Whether an object is at `key`, by listing it. */
async function listed(objects: ObjectStore, key: string): Promise<boolean> {
  for await (const object of objects.list(key)) if (object.key === key) return true;
  return false;
}

export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const { store, source } = deps;
  const budget = options.budget ?? UNLIMITED;
  const margin = options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
  const shard = options.shard ?? WHOLE;
  const last = await store.lastComplete(shard);
  // `auto` continues a pass that ran out of time; an explicit mode starts a new one.
  const unfinished = options.mode === "auto" ? await store.unfinished(shard) : null;
  const mode = unfinished?.mode ?? (options.mode === "auto" ? (last ? "incremental" : "full") : options.mode);
  if (mode === "incremental" && !last)
    throw new RangeError("no complete reconcile to continue from: run a full one");
  const run = await store.start({
    runId: options.runId,
    mode,
    repair: options.repair,
    passId: unfinished?.id,
    shard,
  });
  const resume = unfinished?.resume ?? null;
  const entries = collections.filter((c) => !options.collections || options.collections.includes(c.name));
  const resumeAt = resume ? entries.findIndex((e) => e.name === resume.collection) : 0;
  const allDevices = await readDevices(deps.ddc);
  const knownIds = allDevices.map((d) => d.idDevice);
  const known = new Set(knownIds);
  const plannedIds = new Set(allDevices.flatMap((d) => (d.lastLogDate ? [d.idDevice] : [])));
  const shardDevices = knownIds.filter((d) => inShard(shard, d));
  // The shard's planned devices: every device this run checks.
  const lastLogDates = new Map(
    allDevices.flatMap((d) =>
      d.lastLogDate && inShard(shard, d.idDevice) ? [[d.idDevice, d.lastLogDate] as const] : [],
    ),
  );
  const positions = await store.curatedPositions();
  const marks = await store.watermarks(shard);
  const incremental = mode === "incremental" && last !== null;
  const touched = incremental ? await store.curatedSince(last.startedAt) : [];
  const again = incremental ? await store.findingDays(last.id) : [];
  const open = incremental
    ? await store.openDays(entries.filter((e) => e.updatedField).map((e) => e.name))
    : [];
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  // One look-up per raw object a run (a pack holds many devices' windows), by listing its key:
  // reconcile may list the raw folders (the worker's cleanup) but reads no object.
  const looked = new Map<string, Promise<boolean>>();
  const present = (key: string): Promise<boolean> => {
    let found = looked.get(key);
    if (!found) {
      found = listed(deps.objects, key);
      looked.set(key, found);
    }
    return found;
  };
  const findings: Finding[] = [];
  let daysChecked = 0;
  let queriesRun = 0;
  let incrementRead = 0;
  let stopped: ResumePoint | null = null;

  for (const [index, entry] of entries.entries()) {
    if (index < resumeAt) continue;
    const resuming = resume !== null && index === resumeAt;
    const watermark = marks.get(entry.name);
    const full = mode === "full" || watermark === undefined;
    const scope: Scope = new Map();
    // The collection's next watermark, taken before its reads (a continued pass keeps its own).
    let mark: string | null = resuming ? resume.mark : null;
    let strays: Strays = { untimed: [], unknownDevice: [], unplanned: [] };
    if (full) {
      if (!resuming) mark = (await newestObjectId(source, entry)) ?? null;
      for (const d of lastLogDates.keys()) scope.set(d, null);
      if (!resuming) strays = await allStrays(source, entry, [...lastLogDates.keys()], knownIds, shard);
    } else {
      // Shard 0 reads the whole increment (documents of no ddc device are its); the others only
      // their devices'.
      const own = shard.index === 0 ? undefined : shardDevices;
      const changes = shardChanges(
        await sourceChanges(source, entry, watermark, known, plannedIds, own),
        shard,
      );
      incrementRead += changes.documents;
      if (!resuming) mark = changes.watermark ?? null;
      for (const [d, days] of changes.days) for (const day of days) addDay(scope, d, day);
      // Only the shard's devices are checked (`ids` below); other shards' days are theirs.
      for (const k of [...touched, ...again, ...open])
        if (k.collection === entry.name && inShard(shard, k.idDevice)) addDay(scope, k.idDevice, k.day);
      if (entry.updatedField)
        for (const [d, day] of await openInSource(source, entry, [...lastLogDates.keys()]))
          addDay(scope, d, day);
      if (!resuming) strays = changes;
    }
    findings.push(...(await strayFindings(store, entry.name, strays.untimed, "unusable_timestamp")));
    findings.push(...(await strayFindings(store, entry.name, strays.unknownDevice, "unknown_device")));
    findings.push(...(await strayFindings(store, entry.name, strays.unplanned, "unplanned_device")));

    const ids = [...scope.keys()]
      .filter((d) => lastLogDates.has(d) && (!resuming || d > resume.idDevice))
      .sort((a, b) => a - b);
    const bookmarks = await deps.state.bookmarks(entry.name, ids);
    const position = positions.get(entry.name) ?? 0;
    const checkDevice = async (idDevice: number) => {
      const days = scope.get(idDevice) ?? null;
      // Windows curate has not read yet are in flight only while their objects are there.
      const windows = await Promise.all(
        (await store.windows(entry.name, idDevice)).map(async (w) =>
          w.id > position && !(await present(w.objectKey)) ? { ...w, gone: true } : w,
        ),
      );
      const tallies = new Map<Day, DayTally>();
      const read = await tallyDevice(
        source,
        entry,
        {
          idDevice,
          lastLogDate: lastLogDates.get(idDevice) as Date,
          bookmark: bookmarks.get(idDevice) ?? null,
          windows,
          curatedPosition: position,
        },
        days ? dayRanges(days) : null,
        tallies,
      );
      queriesRun += read.queriesRun;
      const curated = await store.curatedDays(entry.name, idDevice, days ? [...days] : null);
      // Days the lake should hold some of: before the bookmark's day ends.
      const mark = bookmarks.get(idDevice);
      const belowMark = (day: Day) => mark !== undefined && dayStart(day).getTime() < mark.getTime();
      const checked = new Set(
        [...(days ?? [])].filter(belowMark).concat([...tallies.keys(), ...curated.keys()]),
      );
      daysChecked += checked.size;
      const subject = {
        collection: entry.name,
        idDevice,
        unit: entry.reshape?.kind === "pivot" ? ("cells" as const) : ("keys" as const),
        resets: entry.updatedField !== undefined,
      };
      for (const day of [...checked].sort()) {
        const tally = tallies.get(day) ?? emptyDay();
        const held = curated.get(day) ?? NOTHING_CURATED;
        const quarantined = needsQuarantine({ ...subject, day }, tally, held)
          ? await store.quarantinedIds(
              entry.name,
              tally.documents.flatMap((d) => (d.id === undefined ? [] : [d.id])),
            )
          : new Set<string>();
        findings.push(...compareDay({ ...subject, day }, tally, held, quarantined));
      }
    };
    // Devices in groups, so a pass out of time stops after a whole group: every device up to
    // the last of it is checked, and the next run continues after it.
    for (let i = 0; i < ids.length; i += concurrency) {
      if (budget.remainingMs() < margin) {
        stopped = { collection: entry.name, idDevice: ids[i - 1] ?? (resuming ? resume.idDevice : -1), mark };
        break;
      }
      await Promise.all(ids.slice(i, i + concurrency).map(checkDevice));
    }
    if (stopped) break;
    if (mark) await store.saveWatermarks(shard, new Map([[entry.name, mark]]));
    deps.log?.info(
      { collection: entry.name, mode: full ? "full" : "incremental", devices: ids.length },
      "reconciled",
    );
  }

  let repaired = { windowsReplayed: 0, documentsQuarantined: 0 };
  if (options.repair) {
    repaired = await repair(
      { source, objects: deps.objects, state: deps.state, store, log: deps.log },
      { runId: options.runId, entries: new Map(entries.map((e) => [e.name, e])), knownDevices: knownIds },
      findings.filter(isDifference),
    );
  }
  const differences = findings.filter(isDifference).length;
  await store.record(run.id, findings);
  await store.finish(run.id, {
    daysChecked,
    differences,
    windowsReplayed: repaired.windowsReplayed,
    resume: stopped,
  });
  const byCause: Partial<Record<Cause, number>> = {};
  for (const f of findings) byCause[f.cause] = (byCause[f.cause] ?? 0) + 1;
  const units = (cause: Cause) => findings.filter((f) => f.cause === cause).reduce((n, f) => n + f.count, 0);
  return {
    reconcileId: run.id,
    passId: unfinished?.id ?? run.id,
    shard,
    mode,
    complete: stopped === null,
    daysChecked,
    findings,
    differences,
    quarantined: units("quarantined"),
    inFlight: units("in_flight"),
    byCause,
    windowsReplayed: repaired.windowsReplayed,
    documentsQuarantinedByRepair: repaired.documentsQuarantined,
    queriesRun,
    incrementRead,
  };
}
