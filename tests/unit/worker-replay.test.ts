/**
 * The worker without the server (scripts/bench/ingest/replay.ts): `runWorker` reads MongoDB only
 * through its `DocumentSource` seam (pipeline/ingest/source.ts), so the answers recorded from one
 * run, fed back from memory, make the same objects; a query the recording cannot answer fails
 * loudly; and a shorter window is answered from the recorded window that covers it, as the server
 * would answer it.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Document, serialize } from "bson";
import type { Db, Filter, FindOptions } from "mongodb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DeviceTarget, runWorker, WorkerDevicesFailedError } from "../../pipeline/ingest/worker.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";
import type { ObjectStore } from "../../pipeline/lake/object-store.js";
import { collection } from "../../pipeline/schema/index.js";
import { NO_LEDGER } from "../../scripts/bench/ingest/ingest-state.js";
import { Recording, recordingSource, replaySource } from "../../scripts/bench/ingest/replay.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2025, 2, 1);
const events = collection("events");

/** Device 7's events, one an hour for four days; one lacks `type` and is quarantined. */
const DOCS: Document[] = Array.from({ length: 96 }, (_, i) => ({
  _id: `e${i}`,
  idDevice: 7,
  timestamp: new Date(START + i * HOUR),
  ...(i === 5 ? {} : { type: "door" }),
  source: "ui",
  severity: i % 3,
}));
const DEVICES: DeviceTarget[] = [{ idDevice: 7, lastLogDate: new Date(START + 4 * DAY) }];

/**
 * The server double: answers the three queries the worker makes of `events` (the untimed sweep,
 * the first dated document, a window), as raw BSON when asked, as the driver does with `raw`.
 */
function server(): { db: Db; queries: number } {
  const state = { queries: 0 };
  const answer = (filter: Filter<Document>, options: FindOptions = {}): Document[] => {
    const range = filter.timestamp as Record<string, Date>;
    if ("$not" in range) return [];
    if ("$type" in range) return DOCS.slice(0, options.limit).map((d) => ({ timestamp: d.timestamp }));
    const from = range.$gte as Date;
    const to = range.$lt as Date;
    return DOCS.filter((d) => d.idDevice === filter.idDevice && d.timestamp >= from && d.timestamp < to);
  };
  const db = {
    collection: () => ({
      find: (filter: Filter<Document>, options: FindOptions & { raw?: boolean } = {}) => ({
        toArray: async () => {
          state.queries++;
          const docs = answer(filter, options);
          return options.raw ? docs.map((d) => serialize(d)) : docs;
        },
      }),
    }),
  } as unknown as Db;
  return {
    db,
    get queries() {
      return state.queries;
    },
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "worker-replay-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Every object of the store, by key: a digest of its bytes. A pack's key is new on every write
 * (ADR 0023): packs are named by their order of writing instead.
 */
async function objects(store: ObjectStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let packs = 0;
  for await (const o of store.list("")) {
    const key = o.key.replace(/\/packs\/[^/]+\.parquet$/, () => `/packs/#${packs++}`);
    out[key] = createHash("sha256")
      .update(await store.get(o.key))
      .digest("hex");
  }
  return out;
}

const run = (source: Parameters<typeof runWorker>[1]["source"], store: ObjectStore, windowMs?: number) =>
  runWorker(
    { runId: "replay-test", planId: null, entry: events, devices: DEVICES },
    { source, store, state: NO_LEDGER },
    windowMs ? { windowMs } : {},
  );

describe("the worker fed a recording from memory", () => {
  it("writes what it wrote from the server: same counts, same objects and quarantine copies", async () => {
    const recording = new Recording();
    const live = server();
    const recorded = new LocalObjectStore(join(dir, "recorded"));
    const first = await run(recordingSource(live.db, recording), recorded);
    expect(first).toMatchObject({ documentsRead: 96, rowsWritten: 95, documentsQuarantined: 1, windows: 1 });
    expect(recording.size).toBe(live.queries);

    // Through the file, as the bench's replay child reads it.
    await recording.write(join(dir, "replay.bson"));
    const source = replaySource(await Recording.read(join(dir, "replay.bson")));
    const replayed = new LocalObjectStore(join(dir, "replayed"));
    const second = await run(source, replayed);
    expect(second).toEqual(first);
    expect(source.stats).toEqual({ recorded: live.queries, split: 0 });
    expect(await objects(replayed)).toEqual(await objects(recorded));
  });

  it("fails the device on a query it did not record, naming the query", async () => {
    const recording = new Recording();
    await run(recordingSource(server().db, recording), new LocalObjectStore(join(dir, "a")));
    const failed = run(replaySource(recording), new LocalObjectStore(join(dir, "b")), DAY);
    await expect(failed).rejects.toBeInstanceOf(WorkerDevicesFailedError);
    await expect(failed).rejects.toThrow(/replay: no recorded answer for events\.find/);
  });

  it("answers shorter windows from the recorded window that covers them", async () => {
    const recording = new Recording();
    await run(recordingSource(server().db, recording), new LocalObjectStore(join(dir, "a")));
    const source = replaySource(recording, { splitWindows: events });
    const result = await run(source, new LocalObjectStore(join(dir, "b")), DAY);
    expect(result).toMatchObject({ documentsRead: 96, rowsWritten: 95, documentsQuarantined: 1, windows: 4 });
    expect(source.stats.split).toBe(4);
    // What the server itself answers for those windows.
    const live = new LocalObjectStore(join(dir, "live"));
    await run(recordingSource(server().db, new Recording()), live, DAY);
    expect(await objects(new LocalObjectStore(join(dir, "b")))).toEqual(await objects(live));
  });

  it("refuses to slice the windows of a collection that also selects by another field", () => {
    expect(() => replaySource(new Recording(), { splitWindows: collection("alarm") })).toThrow(/resetTS/);
  });
});
