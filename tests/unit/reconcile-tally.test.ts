/**
 * Reconcile's day comparison and repair windows, as pure functions: what each cause means in
 * figures (pipeline/reconcile/tally.ts, repair.ts, days.ts).
 */
import { describe, expect, it } from "vitest";
import { isDifference } from "../../pipeline/reconcile/causes.js";
import { dayOf, dayRanges } from "../../pipeline/reconcile/days.js";
import { replayWindows } from "../../pipeline/reconcile/repair.js";
import type { RepairWindow } from "../../pipeline/reconcile/store.js";
import {
  compareDay,
  type DayTally,
  type NOTHING_CURATED,
  needsQuarantine,
  type TalliedDocument,
} from "../../pipeline/reconcile/tally.js";

const subject = {
  collection: "events",
  idDevice: 7,
  day: "2026-01-02",
  unit: "keys",
  resets: false,
} as const;
const alarms = { ...subject, collection: "alarm", resets: true } as const;

const doc = (id: string, over: Partial<TalliedDocument> = {}): TalliedDocument => ({
  id,
  units: 1,
  pending: false,
  late: false,
  reset: "none",
  ...over,
});

function tally(docs: TalliedDocument[]): DayTally {
  return { due: docs.reduce((n, d) => n + d.units, 0), documents: docs };
}

const curated = (keys: number, over: Partial<typeof NOTHING_CURATED> = {}) => ({
  rows: keys,
  keys,
  cells: 0,
  resets: 0,
  ...over,
});

const causes = (findings: ReturnType<typeof compareDay>) =>
  Object.fromEntries(findings.map((f) => [f.cause, f.count]));

describe("compareDay", () => {
  it("finds nothing when curated holds every due document", () => {
    const t = tally([doc("a"), doc("b")]);
    expect(needsQuarantine(subject, t, curated(2))).toBe(false);
    expect(compareDay(subject, t, curated(2), new Set())).toEqual([]);
  });

  it("accounts for quarantined documents and documents not curated yet, and names no difference", () => {
    const t = tally([doc("a"), doc("b"), doc("q"), doc("p", { pending: true })]);
    expect(needsQuarantine(subject, t, curated(2))).toBe(true);
    const found = compareDay(subject, t, curated(2), new Set(["q"]));
    expect(causes(found)).toEqual({ quarantined: 1, in_flight: 1 });
    expect(found.some(isDifference)).toBe(false);
    expect(found[0]).toMatchObject({ source: 4, curated: 2, quarantined: 1, inFlight: 1, day: "2026-01-02" });
  });

  it("counts documents in raw objects the curate job has not counted as in flight", () => {
    const found = compareDay(subject, tally([doc("a"), doc("p", { pending: true })]), curated(1), new Set());
    expect(causes(found)).toEqual({ in_flight: 1 });
  });

  it("tells a late arrival from a missing document", () => {
    const t = tally([doc("a"), doc("late", { late: true }), doc("gone")]);
    expect(causes(compareDay(subject, t, curated(1), new Set()))).toEqual({ late_arrival: 1, missing: 1 });
  });

  it("names more in curated than in the source, and rows held twice", () => {
    expect(causes(compareDay(subject, tally([doc("a")]), curated(3), new Set()))).toEqual({ extra: 2 });
    expect(
      causes(compareDay(subject, tally([doc("a"), doc("b")]), curated(2, { rows: 3 }), new Set())),
    ).toEqual({
      duplicated: 1,
    });
  });

  it("compares readings with cells for a pivoted collection", () => {
    const pivot = { ...subject, collection: "variable_logs", unit: "cells" } as const;
    const t = tally([doc("slot1", { units: 240 }), doc("slot2", { units: 100, late: true })]);
    expect(compareDay(pivot, t, curated(50, { cells: 340 }), new Set())).toEqual([]);
    expect(causes(compareDay(pivot, t, curated(50, { cells: 240 }), new Set()))).toEqual({
      late_arrival: 100,
    });
    // A quarantined slot's readings are accounted for, whole.
    expect(causes(compareDay(pivot, t, curated(50, { cells: 240 }), new Set(["slot2"])))).toEqual({
      quarantined: 100,
    });
  });

  it("names an alarm reset written late and an alarm re-opened in the source", () => {
    const t = tally([doc("a", { reset: "reset" }), doc("b", { reset: "reset" }), doc("c")]);
    expect(needsQuarantine(alarms, t, curated(3, { resets: 1 }))).toBe(true);
    expect(causes(compareDay(alarms, t, curated(3, { resets: 1 }), new Set()))).toEqual({ late_reset: 1 });
    expect(causes(compareDay(alarms, t, curated(3, { resets: 3 }), new Set()))).toEqual({ reopened: 1 });
    expect(compareDay(alarms, t, curated(3, { resets: 2 }), new Set())).toEqual([]);
  });

  it("counts a re-opened alarm whose window is replayed but not curated yet as in flight", () => {
    const t = tally([doc("a", { pending: true }), doc("b")]);
    expect(causes(compareDay(alarms, t, curated(2, { resets: 1 }), new Set()))).toEqual({ in_flight: 1 });
  });

  it("names documents of an uncurated window whose raw object is gone as raw_lost, never in flight", () => {
    const t = tally([
      doc("a"),
      doc("p", { pending: true }),
      doc("x", { lost: true }),
      doc("y", { lost: true }),
    ]);
    const found = compareDay(subject, t, curated(1), new Set());
    expect(causes(found)).toEqual({ raw_lost: 2, in_flight: 1 });
    expect(found.filter(isDifference).map((f) => f.cause)).toEqual(["raw_lost"]);
    // Quarantined documents of a lost window are accounted for by quarantine, as anywhere.
    expect(causes(compareDay(subject, t, curated(1), new Set(["x"])))).toEqual({
      raw_lost: 1,
      in_flight: 1,
      quarantined: 1,
    });
    // A lost document inserted late is lost, not a late arrival (a replay brings both).
    const late = tally([doc("a"), doc("x", { lost: true, late: true })]);
    expect(causes(compareDay(subject, late, curated(1), new Set()))).toEqual({ raw_lost: 1 });
    // Curated holds them already (a replayed window of curated documents): still named, since
    // the curate job stops on the gone object until the window is extracted again.
    expect(causes(compareDay(subject, t, curated(4), new Set()))).toEqual({ raw_lost: 2 });
  });

  it("names a lost alarm's reset with it, not again as a late reset", () => {
    const t = tally([doc("a", { reset: "reset" }), doc("b", { reset: "reset", lost: true })]);
    expect(causes(compareDay(alarms, t, curated(1, { resets: 1 }), new Set()))).toEqual({ raw_lost: 1 });
  });

  it("does not call a reset at or above the bookmark re-opened or late", () => {
    const t = tally([doc("a", { reset: "inFlight" }), doc("b")]);
    expect(compareDay(alarms, t, curated(2, { resets: 0 }), new Set())).toEqual([]);
    expect(compareDay(alarms, t, curated(2, { resets: 1 }), new Set())).toEqual([]);
    expect(causes(compareDay(alarms, t, curated(2, { resets: 2 }), new Set()))).toEqual({ reopened: 1 });
  });
});

describe("days", () => {
  it("are UTC, and merge into contiguous ranges", () => {
    expect(dayOf(new Date("2026-03-01T23:59:59.999Z"))).toBe("2026-03-01");
    expect(dayOf(new Date("2026-03-02T00:30:00+01:00"))).toBe("2026-03-01");
    const ranges = dayRanges(["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-05", "2026-01-02"]);
    expect(ranges.map((r) => [r.from.toISOString(), r.to.toISOString()])).toEqual([
      ["2026-01-01T00:00:00.000Z", "2026-01-04T00:00:00.000Z"],
      ["2026-01-05T00:00:00.000Z", "2026-01-06T00:00:00.000Z"],
    ]);
  });
});

describe("replayWindows", () => {
  const at = (iso: string) => new Date(iso);
  const w = (from: string, to: string, id: number): RepairWindow => ({
    id,
    objectKey: `events/idDevice=7/${at(from).getTime()}.parquet`,
    from: at(from),
    to: at(to),
    createdAt: at("2026-02-01T00:00:00Z"),
  });
  const windows = [
    w("2026-01-01T05:00:00Z", "2026-01-03T00:00:00Z", 1),
    w("2026-01-03T00:00:00Z", "2026-01-10T00:00:00Z", 2),
  ];
  const bookmark = at("2026-01-10T00:00:00Z");

  it("replays every window that overlaps the days, each once", () => {
    const out = replayWindows(["2026-01-02", "2026-01-03", "2026-01-04"], windows, bookmark);
    expect(out.map((x) => x.from.toISOString())).toEqual([
      "2026-01-01T05:00:00.000Z",
      "2026-01-03T00:00:00.000Z",
    ]);
    expect(out[1]?.to).toEqual(at("2026-01-10T00:00:00Z"));
  });

  it("gives a day below the first window a window of its own, up to the first window", () => {
    const out = replayWindows(["2026-01-01", "2025-12-30"], windows, bookmark);
    expect(out.map((x) => [x.from.toISOString(), x.to.toISOString()])).toEqual([
      ["2025-12-30T00:00:00.000Z", "2025-12-31T00:00:00.000Z"],
      ["2026-01-01T00:00:00.000Z", "2026-01-01T05:00:00.000Z"],
      ["2026-01-01T05:00:00.000Z", "2026-01-03T00:00:00.000Z"],
    ]);
  });

  it("replays nothing at or above the bookmark (the worker brings it)", () => {
    expect(replayWindows(["2026-01-10", "2026-01-11"], windows, bookmark)).toEqual([]);
  });
});

describe("replayWindows over a stretch left without an object", () => {
  const at = (iso: string) => new Date(iso);
  const w = (from: string, to: string, id: number): RepairWindow => ({
    id,
    objectKey: `k${id}`,
    from: at(from),
    to: at(to),
    createdAt: at("2026-02-01T00:00:00Z"),
  });

  it("covers the gap between two raw windows with a window of its own", () => {
    const windows = [
      w("2026-01-01T00:00:00Z", "2026-01-02T06:00:00Z", 1),
      w("2026-01-02T18:00:00Z", "2026-01-04T00:00:00Z", 2),
    ];
    const out = replayWindows(["2026-01-02"], windows, at("2026-01-04T00:00:00Z"));
    expect(out.map((x) => [x.from.toISOString(), x.to.toISOString()])).toEqual([
      ["2026-01-01T00:00:00.000Z", "2026-01-02T06:00:00.000Z"],
      ["2026-01-02T06:00:00.000Z", "2026-01-02T18:00:00.000Z"],
      ["2026-01-02T18:00:00.000Z", "2026-01-04T00:00:00.000Z"],
    ]);
  });

  it("ends a day's own window at the bookmark, and replays nothing without one", () => {
    expect(
      replayWindows(["2026-01-05"], [], at("2026-01-05T12:00:00Z")).map((x) => [
        x.from.toISOString(),
        x.to.toISOString(),
      ]),
    ).toEqual([["2026-01-05T00:00:00.000Z", "2026-01-05T12:00:00.000Z"]]);
    expect(replayWindows(["2026-01-05"], [], null)).toEqual([]);
  });
});
