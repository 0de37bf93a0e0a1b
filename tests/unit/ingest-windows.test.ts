import { describe, expect, it } from "vitest";
import { quarantineKey, rawObjectKey } from "../../pipeline/ingest/keys.js";
import { DAY_MS, nextWindow, windows } from "../../pipeline/ingest/windows.js";

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;

describe("windows", () => {
  it("cuts [start, last_log_date) into contiguous half-open windows of the given length", () => {
    const ws = [
      ...windows({
        start: at("2024-01-01T00:00:00Z"),
        lastLogDate: at("2024-03-15T12:00:00Z"),
        windowMs: 30 * DAY_MS,
      }),
    ];
    expect(ws.map((w) => [w.from.toISOString(), w.to.toISOString()])).toEqual([
      ["2024-01-01T00:00:00.000Z", "2024-01-31T00:00:00.000Z"],
      ["2024-01-31T00:00:00.000Z", "2024-03-01T00:00:00.000Z"],
      ["2024-03-01T00:00:00.000Z", "2024-03-15T12:00:00.000Z"],
    ]);
  });

  it("yields nothing when the bookmark already reached last_log_date", () => {
    const t = at("2024-01-01T00:00:00Z");
    expect(nextWindow({ start: t, lastLogDate: t, windowMs: DAY_MS })).toBeNull();
    expect([...windows({ start: t, lastLogDate: new Date(t.getTime() - 1), windowMs: DAY_MS })]).toEqual([]);
  });

  it("floors the end to the alignment so a 6-hour slot is never split", () => {
    const w = nextWindow({
      start: at("2024-01-01T00:00:00Z"),
      lastLogDate: at("2024-01-01T17:59:59Z"),
      windowMs: DAY_MS,
      alignMs: 6 * HOUR,
    });
    expect(w?.to.toISOString()).toBe("2024-01-01T12:00:00.000Z");
    expect(
      nextWindow({
        start: at("2024-01-01T12:00:00Z"),
        lastLogDate: at("2024-01-01T17:00:00Z"),
        windowMs: DAY_MS,
        alignMs: 6 * HOUR,
      }),
    ).toBeNull();
  });

  it("covers every instant exactly once (property over random marks)", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 0; n < 200; n++) {
      const start = Date.UTC(2020, 0, 1) + Math.floor(rand() * 1e10);
      const end = start + Math.floor(rand() * 400 * DAY_MS);
      const ws = [
        ...windows({
          start: new Date(start),
          lastLogDate: new Date(end),
          windowMs: 1 + Math.floor(rand() * 90 * DAY_MS),
        }),
      ];
      if (end <= start) {
        expect(ws).toEqual([]);
        continue;
      }
      expect(ws[0]?.from.getTime()).toBe(start);
      expect(ws.at(-1)?.to.getTime()).toBe(end);
      for (let i = 1; i < ws.length; i++) expect(ws[i]?.from.getTime()).toBe(ws[i - 1]?.to.getTime());
    }
  });

  it("refuses a non-positive window length", () => {
    expect(() => nextWindow({ start: new Date(0), lastLogDate: new Date(1), windowMs: 0 })).toThrow(
      RangeError,
    );
  });
});

describe("object keys", () => {
  const w = { from: new Date(Date.UTC(2024, 0, 1)), to: new Date(Date.UTC(2024, 2, 1)) };

  it("are deterministic per collection, device and window start, Hive-partitioned by device", () => {
    expect(rawObjectKey("alarm", 1042, w)).toBe("alarm/idDevice=1042/1704067200000.parquet");
    expect(rawObjectKey("alarm", 1042, { ...w })).toBe(rawObjectKey("alarm", 1042, w));
  });

  it.each([
    ["../etc", 1],
    ["alarm", -1],
    ["alarm", 1.5],
  ])("refuses collection %s / device %s", (c, d) => {
    expect(() => rawObjectKey(c, d, w)).toThrow(RangeError);
  });

  it("keeps quarantine keys deterministic and safe whatever the document id holds", () => {
    expect(quarantineKey("alarm", 1042, w, "../../x y")).toBe(
      "_quarantine/alarm/idDevice=1042/1704067200000/..%2F..%2Fx%20y.json",
    );
  });
});
