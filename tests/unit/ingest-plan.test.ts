import { describe, expect, it } from "vitest";
import { batchDevices, devicesDue } from "../../pipeline/ingest/batches.js";
import { firstDocumentQuery, windowQuery } from "../../pipeline/ingest/queries.js";
import { collection } from "../../pipeline/schema/index.js";

const w = { from: new Date(Date.UTC(2024, 0, 1)), to: new Date(Date.UTC(2024, 1, 1)) };

describe("windowQuery", () => {
  it("filters one device on the collection's own timestamp field, half-open", () => {
    expect(windowQuery(collection("sd_messages"), 7, w)).toEqual({
      filter: { idDevice: 7, sentAt: { $gte: w.from, $lt: w.to } },
      sort: { sentAt: 1 },
    });
  });

  it("re-selects alarms reset in the window", () => {
    expect(windowQuery(collection("alarm"), 7, w).filter).toEqual({
      idDevice: 7,
      $or: [{ activeTS: { $gte: w.from, $lt: w.to } }, { resetTS: { $gte: w.from, $lt: w.to } }],
    });
  });

  it("windows variable_logs on the slot field, not the row field", () => {
    expect(windowQuery(collection("variable_logs"), 7, w)).toEqual({
      filter: { idDevice: 7, day: { $gte: w.from, $lt: w.to } },
      sort: { day: 1 },
    });
  });

  it("finds a new device's first dated document instead of starting in 2015", () => {
    expect(firstDocumentQuery(collection("events"), 3)).toEqual({
      filter: { idDevice: 3, timestamp: { $type: "date" } },
      sort: { timestamp: 1 },
      limit: 1,
    });
  });
});

describe("batchDevices", () => {
  it.each([
    [
      [5, 1, 4, 2, 3],
      { workers: 2 },
      [
        [1, 2, 3],
        [4, 5],
      ],
    ],
    [[1, 2, 3], { workers: 10 }, [[1], [2], [3]]],
    [
      [1, 2, 3, 4, 5, 6, 7],
      { devicesPerWorker: 3 },
      [
        [1, 2, 3],
        [4, 5],
        [6, 7],
      ],
    ],
    [[], { workers: 4 }, []],
    [[9], { workers: 0 }, [[9]]],
  ])("%j split by %j", (devices, split, expected) => {
    expect(batchDevices(devices, split)).toEqual(expected);
  });

  it("keeps every device exactly once", () => {
    const devices = Array.from({ length: 1003 }, (_, i) => 1000 + i);
    const batches = batchDevices(devices, { workers: 37 });
    expect(batches).toHaveLength(37);
    expect(batches.flat()).toEqual(devices);
    const sizes = batches.map((b) => b.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
});

describe("devicesDue", () => {
  const d = (s: string | null) => (s ? new Date(s) : null);
  it("takes devices with data newer than their bookmark, or without a bookmark; never those without data", () => {
    expect(
      devicesDue([
        { idDevice: 1, lastLogDate: d("2024-02-01"), lastts: null },
        { idDevice: 2, lastLogDate: d("2024-02-01"), lastts: d("2024-01-01") },
        { idDevice: 3, lastLogDate: d("2024-02-01"), lastts: d("2024-02-01") },
        { idDevice: 4, lastLogDate: null, lastts: null },
      ]),
    ).toEqual([1, 2]);
  });
});

describe("devicesDue with source units", () => {
  it("does not plan a device again while its newest 6-hour slot is still open", () => {
    const six = 6 * 3_600_000;
    const mark = (lld: string, lastts: string) => ({
      idDevice: 1,
      lastLogDate: new Date(lld),
      lastts: new Date(lastts),
    });
    expect(devicesDue([mark("2024-01-01T12:59:00Z", "2024-01-01T12:00:00Z")], six)).toEqual([]);
    expect(devicesDue([mark("2024-01-01T18:00:00Z", "2024-01-01T12:00:00Z")], six)).toEqual([1]);
    expect(devicesDue([mark("2024-01-01T12:59:00Z", "2024-01-01T12:00:00Z")])).toEqual([1]);
  });
});
