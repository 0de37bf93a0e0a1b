/**
 * The summary's orphan sweep on an in-memory ledger: each document without a usable device is
 * copied and recorded once (a key with a row is skipped), and a collection's orphans commit
 * together with their counts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Db, Document } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrphanCommit, OrphanRecords } from "../../pipeline/ingest/ingest-state.js";
import { quarantineOrphans } from "../../pipeline/ingest/orphans.js";
import { LocalObjectStore } from "../../pipeline/lake/local-store.js";

let dir: string;
let store: LocalObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "orphans-"));
  store = new LocalObjectStore(dir);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

/**
 * What the sweep selects without known devices, sorted by `_id`: documents whose idDevice is not
 * a number (the same list answers the fetch of whole documents by `_id`).
 */
function sourceOf(docs: Record<string, Document[]>): Db {
  return {
    collection: (name: string) => ({
      find: () =>
        from(
          (docs[name] ?? [])
            .filter((d) => typeof d.idDevice !== "number")
            .sort((a, b) => String(a._id).localeCompare(String(b._id))),
        ),
    }),
  } as unknown as Db;
}

/** An in-memory ledger whose quarantine rows have the keys `known`. */
function memoryLedger(known: string[] = []) {
  const commits: OrphanCommit[] = [];
  const keys = new Set(known);
  const ledger: OrphanRecords = {
    async quarantinedKeys(asked) {
      return new Set(asked.filter((k) => keys.has(k)));
    },
    async commitOrphans(commit) {
      commits.push(commit);
      for (const q of commit.quarantined) keys.add(q.objectKey);
    },
  };
  return { ledger, commits };
}

const source = sourceOf({
  events: [
    { _id: "c-string", idDevice: "12", timestamp: new Date(0) },
    { _id: "a-missing", timestamp: new Date(0) },
    { _id: "b-null", idDevice: null, timestamp: new Date(0) },
    { _id: "d-device", idDevice: 5, timestamp: new Date(0) },
  ],
  alarm: [{ _id: "e-device", idDevice: 5 }],
});
const run = { runId: "run-1", planId: "plan-1", collections: ["events", "alarm"] };

describe("quarantineOrphans", () => {
  it("copies and records each new orphan, in one commit per collection, and skips known ones", async () => {
    const { ledger, commits } = memoryLedger(["_quarantine/events/no-device/b-null.json"]);
    const found = await quarantineOrphans({ source, store, state: ledger }, run);
    expect(Object.fromEntries(found)).toEqual({ events: 2, alarm: 0 });
    expect(
      commits.map((c) => [c.runId, c.planId, c.collection, c.quarantined.map((q) => q.documentId)]),
    ).toEqual([["run-1", "plan-1", "events", ["a-missing", "c-string"]]]);
    const [missing, string] = commits[0]?.quarantined ?? [];
    expect(missing?.reason).toBe("events document a-missing names no device: idDevice is missing");
    expect(string?.reason).toBe('events document c-string names no device: idDevice is a string ("12")');
    expect(string?.objectKey).toBe("_quarantine/events/no-device/c-string.json");
    const copy = JSON.parse((await store.get(string?.objectKey ?? "")).toString());
    expect(copy).toEqual({
      collection: "events",
      reason: string?.reason,
      document: { _id: "c-string", idDevice: "12", timestamp: { $date: "1970-01-01T00:00:00Z" } },
    });

    const again = await quarantineOrphans({ source, store, state: ledger }, run);
    expect(Object.fromEntries(again)).toEqual({ events: 0, alarm: 0 });
    expect(commits).toHaveLength(1);
  });
});
