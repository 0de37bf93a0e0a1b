/**
 * `reconcile --repair`: what a replay or a sweep can bring into the lake, exactly once.
 * - replay (late arrivals, missing documents, late resets, re-opened alarms): the raw windows of
 *   the device that cover the day are extracted again, to their own keys, and committed as the
 *   worker commits a window, with the bookmark unchanged. The ledger row of a rewritten key takes
 *   a new id (commit-statement.ts), so the curate job merges the object again on the natural key:
 *   documents it holds already match, the late ones are added once, changed alarms are updated.
 *   A day below the device's first window (a document older than the device's first one) gets a
 *   window of its own, up to that first window.
 * - sweep (documents without a usable timestamp or of no device): the worker's and the summary's
 *   sweeps, which quarantine each document once with its reason.
 * Repairing twice replays the same windows to the same keys: still once in curated.
 */
import type { Db } from "mongodb";
import type { Logger } from "pino";
import { extractWindow } from "../ingest/extract.js";
import { sweepUntimed } from "../ingest/first-pass.js";
import type { IngestState, OrphanRecords, WindowCommit } from "../ingest/ingest-state.js";
import { quarantineOrphans } from "../ingest/orphans.js";
import { QuarantineOnce } from "../ingest/quarantine.js";
import type { Window } from "../ingest/windows.js";
import type { ObjectStore } from "../lake/object-store.js";
import type { CollectionEntry } from "../schema/registry.js";
import { CAUSES, type Finding } from "./causes.js";
import { dayEnd, dayStart } from "./days.js";
import type { ReconcileStore, RepairWindow } from "./store.js";

export interface RepairDeps {
  readonly source: Db;
  readonly objects: ObjectStore;
  readonly state: IngestState & OrphanRecords;
  readonly store: ReconcileStore;
  readonly log?: Logger;
}

export interface RepairResult {
  readonly windowsReplayed: number;
  readonly documentsQuarantined: number;
}

/**
 * The windows to extract again for a device's days (below its bookmark): every raw window that
 * overlaps them, and a window of its own for each part of a day that no raw window covers (before
 * the device's first document, or a stretch that was empty when extracted, which left no object).
 */
export function replayWindows(
  days: readonly string[],
  windows: readonly RepairWindow[],
  bookmark: Date | null,
): Window[] {
  if (!bookmark) return [];
  const chosen = new Map<number, Window>();
  for (const day of days) {
    const from = dayStart(day).getTime();
    const to = Math.min(dayEnd(day).getTime(), bookmark.getTime());
    let uncovered = from;
    for (const w of windows) {
      const [wf, wt] = [w.from.getTime(), w.to.getTime()];
      if (wf >= to || wt <= from) continue;
      chosen.set(wf, { from: w.from, to: w.to });
      if (wf > uncovered) chosen.set(uncovered, { from: new Date(uncovered), to: new Date(wf) });
      uncovered = Math.max(uncovered, wt);
    }
    if (uncovered < to) chosen.set(uncovered, { from: new Date(uncovered), to: new Date(to) });
  }
  return [...chosen.values()].sort((a, b) => a.from.getTime() - b.from.getTime());
}

export async function repair(
  deps: RepairDeps,
  run: { runId: string; entries: ReadonlyMap<string, CollectionEntry>; knownDevices: readonly number[] },
  findings: readonly Finding[],
): Promise<RepairResult> {
  let windowsReplayed = 0;
  let documentsQuarantined = 0;
  const once = new QuarantineOnce(deps.objects, (keys) => deps.state.quarantinedKeys(keys));
  const replay = new Map<string, Map<number, Set<string>>>();
  const untimed = new Map<string, Set<number>>();
  const orphans = new Set<string>();
  for (const f of findings) {
    const how = CAUSES[f.cause].repair;
    if (how === "replay" && f.idDevice !== null && f.day !== null) {
      const devices = replay.get(f.collection) ?? new Map<number, Set<string>>();
      replay.set(f.collection, devices);
      const days = devices.get(f.idDevice) ?? new Set<string>();
      devices.set(f.idDevice, days);
      days.add(f.day);
    } else if (how === "sweep" && f.cause === "unusable_timestamp" && f.idDevice !== null) {
      const devices = untimed.get(f.collection) ?? new Set<number>();
      untimed.set(f.collection, devices);
      devices.add(f.idDevice);
    } else if (how === "sweep") orphans.add(f.collection);
  }
  const entryOf = (name: string) => {
    const entry = run.entries.get(name);
    if (!entry) throw new RangeError(`no registry entry for ${name}`);
    return entry;
  };
  const commit = (entry: CollectionEntry, idDevice: number, lastts: Date, part: Partial<WindowCommit>) =>
    deps.state.commitWindows([
      {
        runId: run.runId,
        planId: null,
        collection: entry.name,
        idDevice,
        window: null,
        lastts,
        object: null,
        quarantined: [],
        drift: new Map(),
        counters: {
          documentsRead: 0,
          documentsUploaded: 0,
          documentsQuarantined: 0,
          bytesUploaded: 0,
          queriesRun: 1,
          computationMs: 0,
        },
        ...part,
      },
    ]);

  for (const [name, devices] of replay) {
    const entry = entryOf(name);
    const bookmarks = await deps.state.bookmarks(name, [...devices.keys()]);
    for (const [idDevice, days] of devices) {
      const bookmark = bookmarks.get(idDevice) ?? null;
      // Without a bookmark nothing was extracted yet: the worker's first pass brings it all.
      if (!bookmark) continue;
      const windows = replayWindows([...days], await deps.store.windows(name, idDevice), bookmark);
      for (const window of windows) {
        const started = performance.now();
        const out = await extractWindow({
          source: deps.source,
          store: deps.objects,
          entry,
          idDevice,
          window,
          once,
        });
        await commit(entry, idDevice, bookmark, {
          window: out.object ? window : null,
          object: out.object,
          quarantined: out.quarantined,
          drift: out.drift,
          counters: {
            documentsRead: out.documentsRead,
            documentsUploaded: out.documentsAccepted,
            documentsQuarantined: out.quarantined.length,
            bytesUploaded: out.object?.bytes ?? 0,
            queriesRun: 1,
            computationMs: Math.round(performance.now() - started),
          },
        });
        windowsReplayed++;
        documentsQuarantined += out.quarantined.length;
        deps.log?.info(
          { collection: name, idDevice, from: window.from, to: window.to, rows: out.object?.rows ?? 0 },
          "window replayed",
        );
      }
    }
  }
  for (const [name, devices] of untimed) {
    const entry = entryOf(name);
    const bookmarks = await deps.state.bookmarks(name, [...devices]);
    for (const idDevice of devices) {
      const bookmark = bookmarks.get(idDevice);
      // A device never extracted is swept by its first worker run, which sets its bookmark.
      if (!bookmark) continue;
      const found = await sweepUntimed(deps.source, entry, idDevice, once);
      if (!found.records.length) continue;
      await commit(entry, idDevice, bookmark, {
        quarantined: found.records,
        counters: {
          documentsRead: found.records.length,
          documentsUploaded: 0,
          documentsQuarantined: found.records.length,
          bytesUploaded: 0,
          queriesRun: found.queriesRun,
          computationMs: 0,
        },
      });
      documentsQuarantined += found.records.length;
    }
  }
  if (orphans.size) {
    const swept = await quarantineOrphans(
      { source: deps.source, store: deps.objects, state: deps.state, log: deps.log },
      { runId: run.runId, planId: null, collections: [...orphans], devices: run.knownDevices },
    );
    for (const n of swept.values()) documentsQuarantined += n;
  }
  return { windowsReplayed, documentsQuarantined };
}
