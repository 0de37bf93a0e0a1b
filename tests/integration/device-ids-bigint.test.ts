/**
 * Issue 13, item 4: `ddc` device ids are bigint, and so are the support database's. A device id
 * of 3 000 000 000 (past int4) flows through the plan, the worker, the ledger and the bookmarks;
 * one beyond 2^53 (past what a JS number holds exactly) is refused for that device alone, by
 * name, and its documents are quarantined by the orphan sweep, never failing the plan.
 */
import { Long, ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quarantineOrphans } from "../../pipeline/ingest/orphans.js";
import { planPass } from "../../pipeline/ingest/plan-pass.js";
import { DAY_MS } from "../../pipeline/ingest/windows.js";
import { runWorker } from "../../pipeline/ingest/worker.js";
import { collection } from "../../pipeline/schema/index.js";
import { postgresPlanStore } from "../../pipeline/support/plan-store.js";
import { type IngestWorld, openIngestWorld } from "../support/ingest-world.js";

const BIG = 3_000_000_000;
/** One worker per collection: one batch, one metric row. */
const WORKERS = { bulk: { events: 1 }, operations: { events: 1 } };
const BEYOND = "9007199254740993"; // 2^53 + 1
const t0 = new Date(Date.UTC(2024, 0, 1));
const at = (days: number, ms = 0) => new Date(t0.getTime() + days * DAY_MS + ms);
let world: IngestWorld;

beforeAll(async () => {
  world = await openIngestWorld("bigids");
  await world.ddc.query("CREATE TABLE device (id bigint PRIMARY KEY, last_log_date timestamptz)");
  await world.ddc.query("INSERT INTO device (id, last_log_date) VALUES (7, $1), ($2, $1), ($3, $1)", [
    at(1),
    String(BIG),
    BEYOND,
  ]);
  const event = (idDevice: unknown, ms: number) => ({
    _id: new ObjectId(),
    idDevice,
    timestamp: at(0, ms),
    type: "door",
    source: "hmi",
  });
  await world.source
    .collection("events")
    .insertMany([
      event(7, 1000),
      event(BIG, 2000),
      event(Long.fromNumber(BIG), 3000),
      event(Long.fromString(BEYOND), 4000),
    ]);
});

afterAll(async () => {
  await world?.close();
});

describe("device ids past int4 and past 2^53", () => {
  it("plans, extracts and bookmarks 3 000 000 000; refuses 2^53 + 1 alone, by name", async () => {
    const plans = postgresPlanStore(world.pool);
    const plan = await planPass(
      { ddc: world.ddc, state: world.state, plans },
      { mode: "auto", workers: WORKERS, collections: ["events"] },
    );
    expect(plan.devices.map((d) => d.idDevice)).toEqual([7, BIG]);
    expect(plan.refused).toEqual([{ id: BEYOND, reason: expect.stringMatching(/beyond 2\^53/) }]);
    expect(plan.refused[0]?.reason).toContain(BEYOND);
    expect(plan.batches.flatMap((b) => b.devices.map((d) => d.idDevice))).toEqual([7, BIG]);

    for (const item of plan.items) {
      const devices = await plans.load(item);
      expect(devices.every((d) => typeof d.idDevice === "number")).toBe(true);
      await runWorker(
        { runId: `big-${item.batch}`, planId: plan.planId, entry: collection(item.collection), devices },
        { source: world.source, store: world.store, state: world.state },
        { windowMs: DAY_MS },
      );
    }
    const ledger = await world.sql<{ object_key: string; id_device: string; rows: number }>(
      "SELECT object_key, id_device::text, rows FROM file_ledger ORDER BY file_ledger.id_device",
    );
    // Both devices' small windows in one pack (ADR 0023), a ledger row each.
    const pack = expect.stringMatching(/^events\/packs\//);
    expect(ledger).toEqual([
      { object_key: pack, id_device: "7", rows: 1 },
      { object_key: pack, id_device: String(BIG), rows: 2 },
    ]);
    expect(ledger[0]?.object_key).toBe(ledger[1]?.object_key);
    // The device column of the rows is read from the data: the big id intact.
    expect((await world.rawRows("events")).map((r) => String(r.id_device)).sort()).toEqual(
      ["7", String(BIG), String(BIG)].sort(),
    );
    const marks = await world.sql<{ id_device: string; lastts: Date }>(
      "SELECT id_device::text, lastts FROM lastts ORDER BY lastts.id_device",
    );
    expect(marks.map((m) => [m.id_device, m.lastts.getTime()])).toEqual([
      ["7", at(1).getTime()],
      [String(BIG), at(1).getTime()],
    ]);
    const runs = await world.sql<{ first_device: string; last_device: string }>(
      "SELECT first_device::text, last_device::text FROM metric WHERE plan_id = $1",
      [plan.planId],
    );
    expect(runs).toEqual([{ first_device: "7", last_device: String(BIG) }]);

    // Read back, the bookmarks match the devices: nothing is due again.
    const again = await planPass(
      { ddc: world.ddc, state: world.state, plans },
      { mode: "auto", workers: WORKERS, collections: ["events"] },
    );
    expect(again.mode).toBe("operations");
    expect(again.batches).toEqual([]);

    // The refused device's documents are quarantined by the sweep, the reason naming the id.
    const found = await quarantineOrphans(
      { source: world.source, store: world.store, state: world.state },
      {
        runId: "big-sweep",
        planId: plan.planId,
        collections: ["events"],
        devices: plan.devices.map((d) => d.idDevice),
      },
    );
    expect(Object.fromEntries(found)).toEqual({ events: 1 });
    const [row] = await world.sql<{ reason: string }>(
      "SELECT reason FROM quarantine WHERE run_id = 'big-sweep'",
    );
    expect(row?.reason).toContain(`idDevice ${BEYOND} is beyond 2^53`);
  });
});
