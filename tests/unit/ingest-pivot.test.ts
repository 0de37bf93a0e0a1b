import { describe, expect, it } from "vitest";
import { pivotRows } from "../../pipeline/ingest/pivot.js";
import { OVEN_VARIABLES, type VariableLogSlot } from "../../pipeline/schema/collections.js";
import { collection } from "../../pipeline/schema/registry.js";

const day = new Date("2024-01-01T06:00:00Z");
const values = (f: (i: number) => number | null) => Array.from({ length: 120 }, (_, i) => f(i));

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect(slots: VariableLogSlot[], idDevice = 1) {
  const rows = [];
  for await (const r of pivotRows(collection("variable_logs"), idDevice, from(slots))) rows.push(r);
  return rows;
}

function slot(
  variable: (typeof OVEN_VARIABLES)[number],
  d: Date,
  samples: VariableLogSlot["samples"],
): VariableLogSlot {
  return { _id: `${variable}-${d.getTime()}`, idDevice: 1, variable, day: d, samples };
}

describe("pivotRows of variable_logs", () => {
  it("makes one row per instant with a column per variable, nulls where a variable was silent", async () => {
    const rows = await collect([
      slot("temp_chamber", day, [{ hour: 0, values: values((i) => (i < 2 ? 100 + i : null)) }]),
      slot("humidity", day, [{ hour: 0, values: values((i) => (i === 1 || i === 2 ? 50 : null)) }]),
    ]);
    expect(rows.map((r) => [(r.time as Date).toISOString(), r.temp_chamber, r.humidity])).toEqual([
      ["2024-01-01T06:00:00.000Z", 100, null],
      ["2024-01-01T06:00:30.000Z", 101, 50],
      ["2024-01-01T06:01:00.000Z", null, 50],
    ]);
    expect(rows[0]).toMatchObject({ id_device: 1, fan_speed: null });
    expect(Object.keys(rows[0] ?? {})).toHaveLength(2 + OVEN_VARIABLES.length);
  });

  it("places sample i of hour h at day + h hours + 30·i seconds, in time order across slots", async () => {
    const next = new Date(day.getTime() + 6 * 3_600_000);
    const rows = await collect([
      slot("fan_speed", day, [
        { hour: 5, values: values((i) => (i === 119 ? 1 : null)) },
        { hour: 0, values: values((i) => (i === 0 ? 2 : null)) },
      ]),
      slot("fan_speed", next, [{ hour: 0, values: values((i) => (i === 0 ? 3 : null)) }]),
    ]);
    expect(rows.map((r) => [(r.time as Date).toISOString(), r.fan_speed])).toEqual([
      ["2024-01-01T06:00:00.000Z", 2],
      ["2024-01-01T11:59:30.000Z", 1],
      ["2024-01-01T12:00:00.000Z", 3],
    ]);
  });

  it("keeps the source's count of readings: every non-null value lands in exactly one cell", async () => {
    const slots = OVEN_VARIABLES.slice(0, 5).map((v, k) =>
      slot(
        v,
        day,
        [0, 2, 4].map((hour) => ({
          hour,
          values: values((i) => ((i + k + hour) % 3 === 0 ? i * 0.5 + k : null)),
        })),
      ),
    );
    const readings = slots
      .flatMap((s) => s.samples.flatMap((x) => x.values))
      .filter((v) => v !== null).length;
    const rows = await collect(slots);
    const cells = rows.flatMap((r) => OVEN_VARIABLES.map((v) => r[v])).filter((v) => v !== null).length;
    expect(cells).toBe(readings);
    const times = rows.map((r) => (r.time as Date).getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(new Set(times).size).toBe(times.length);
  });

  it("refuses slots out of order or of another device", async () => {
    const earlier = new Date(day.getTime() - 6 * 3_600_000);
    const one = [{ hour: 0, values: values(() => 1) }];
    await expect(collect([slot("humidity", day, one), slot("humidity", earlier, one)])).rejects.toThrow(
      /out of order/,
    );
    await expect(collect([slot("humidity", day, one)], 2)).rejects.toThrow(/device 1 in the stream of 2/);
  });
});
