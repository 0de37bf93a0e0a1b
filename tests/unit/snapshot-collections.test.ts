/**
 * Choosing the collections a snapshot loads (`snapshot load --collections alarm`): resolved in
 * registry order, unknown names refused by name, and the writers of a lone collection split by
 * device so it loads on several connections.
 */
import { describe, expect, it } from "vitest";
import { planSnapshot, resolveSnapshotConfig, SOURCE_COLLECTIONS } from "../../local/snapshot/index.js";
import { writeTasks } from "../../local/snapshot/load.js";

describe("resolveSnapshotConfig collections", () => {
  it("defaults to every collection, in registry order", () => {
    expect(resolveSnapshotConfig({}).collections).toEqual(SOURCE_COLLECTIONS);
  });

  it("keeps registry order and drops duplicates, so equal selections compare equal", () => {
    expect(resolveSnapshotConfig({ collections: ["events", "alarm", "events"] }).collections).toEqual([
      "alarm",
      "events",
    ]);
  });

  it.each([
    [["alarms"], /unknown collection alarms; known: alarm, end_of_prog/],
    [[], /name at least one collection/],
  ])("refuses %j", (collections, message) => {
    expect(() => resolveSnapshotConfig({ collections })).toThrow(message);
  });
});

describe("writeTasks", () => {
  const devices = planSnapshot({ devices: 10, days: 2 }).fleet.devices;

  it("splits a lone collection by device across the writers", () => {
    const tasks = writeTasks(devices, 3, ["alarm"]);
    expect(tasks.map((t) => t.collection)).toEqual(["alarm", "alarm", "alarm"]);
    const ids = tasks.flatMap((t) => t.devices.map((d) => d.id));
    expect(ids.sort((a, b) => a - b)).toEqual(devices.map((d) => d.id).sort((a, b) => a - b));
  });

  it("writes every collection once (variable_logs in slices) when all are loaded", () => {
    const tasks = writeTasks(devices, 2);
    expect(tasks.filter((t) => t.collection === "variable_logs")).toHaveLength(2);
    expect(new Set(tasks.map((t) => t.collection))).toEqual(new Set(SOURCE_COLLECTIONS));
    expect(tasks).toHaveLength(SOURCE_COLLECTIONS.length + 1);
  });

  it("leaves out the collections not chosen", () => {
    expect(writeTasks(devices, 2, ["events", "alarm"]).map((t) => t.collection)).toEqual(["alarm", "events"]);
  });
});
