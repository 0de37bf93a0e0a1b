import { describe, expect, it } from "vitest";
import { z } from "zod";
import { RegistryError, UnsupportedTypeError } from "../../pipeline/errors.js";
import {
  collection,
  collections,
  columnsOf,
  defineCollection,
  defineTable,
  fields,
  GLUE_TYPE,
  glueColumnsOf,
  ICEBERG_TYPE,
  icebergPartitionOf,
  icebergSchemaOf,
  jobTables,
  lakeColumnName,
  parquetSchemaOf,
  table,
  tables,
} from "../../pipeline/schema/index.js";

describe("registry contents", () => {
  it("has the 13 MongoDB collections of the design", () => {
    expect(collections.map((c) => c.name).sort()).toEqual(
      [
        "alarm",
        "end_of_prog",
        "end_of_prog_aggregated",
        "events",
        "evereo_sess",
        "request",
        "sd_events",
        "sd_haccp",
        "sd_messages",
        "sd_variables",
        "sdata",
        "variable_logs",
        "working_minutes_logs",
      ].sort(),
    );
  });

  it("gives each table one behaviour: device merges, histories append, the rest are replaced whole", () => {
    const by = (b: string) =>
      tables
        .filter((t) => t.behaviour === b)
        .map((t) => t.name)
        .sort();
    expect(by("merge")).toEqual(["device"]);
    expect(by("append")).toEqual(["device_ip_info_history", "device_recipe_history"]);
    expect(by("replace")).toContain("device_recipe");
    expect(tables).toHaveLength(14);
  });

  it("tracks every non-key device column for the merge", () => {
    const device = table("device");
    expect(device.tracked).toContain("last_log_date");
    expect(device.tracked).toContain("city");
    expect(device.tracked).not.toContain("id");
    expect(device.tracked).toHaveLength(device.columns.length - 1);
  });

  it("pivots variable_logs into one nullable double column per variable, keyed by device and time", () => {
    const vl = collection("variable_logs");
    expect(vl.naturalKey).toEqual(["idDevice", "time"]);
    expect(vl.payload).toBe(false);
    const measures = vl.columns.filter((c) => !["id_device", "time"].includes(c.name));
    expect(measures.length).toBeGreaterThanOrEqual(10);
    for (const m of measures) expect(m).toMatchObject({ type: "float64", nullable: true });
  });

  it("looks entries up by name and refuses unknown names", () => {
    expect(collection("alarm").updatedField).toBe("resetTS");
    expect(() => collection("nope")).toThrow(RegistryError);
    expect(() => table("nope")).toThrow(/unknown table nope/);
  });
});

describe("lakeColumnName", () => {
  it.each([
    ["_id", "id"],
    ["idDevice", "id_device"],
    ["activeTS", "active_ts"],
    ["resetTS", "reset_ts"],
    ["startTS", "start_ts"],
    ["sentAt", "sent_at"],
    ["last_log_date", "last_log_date"],
    ["HTTPStatus", "http_status"],
    ["temp_chamber", "temp_chamber"],
  ])("%s → %s", (source, lake) => {
    expect(lakeColumnName(source)).toBe(lake);
  });
});

describe("column model", () => {
  it("maps each field builder to its column type and nullability", () => {
    const cols = columnsOf(
      z.object({
        a: fields.int32(),
        b: fields.int64(),
        c: fields.float64().nullish(),
        d: fields.text(),
        e: fields.boolean().optional(),
        f: fields.timestamp().nullable(),
        g: fields.json(),
      }),
    );
    expect(cols.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ["a", "int32", false],
      ["b", "int64", false],
      ["c", "float64", true],
      ["d", "string", false],
      ["e", "boolean", true],
      ["f", "timestamp", true],
      ["g", "json", false],
    ]);
  });

  it.each([
    ["an array", z.array(z.string())],
    ["a nested object", z.object({ x: z.string() })],
    ["a bigint", z.bigint()],
    ["a float32", z.float32()],
    ["a union", z.union([z.string(), z.number()])],
  ])("throws on %s instead of guessing a type", (_label, field) => {
    expect(() => columnsOf(z.object({ field }))).toThrow(UnsupportedTypeError);
    expect(() => columnsOf(z.object({ field }))).toThrow(/field field/);
  });
});

describe("entry checks", () => {
  const schema = z.object({ _id: fields.text(), idDevice: fields.int64(), ts: fields.timestamp() });

  it("refuses a timestamp field that is not in the schema", () => {
    expect(() =>
      defineCollection({
        name: "x",
        schema,
        // @ts-expect-error: the type system refuses it too
        timestampField: "when",
        naturalKey: ["_id"],
        partition: { buckets: 4 },
      }),
    ).toThrow(/when is not a field/);
  });

  it("refuses two source fields that collide in the lake", () => {
    const clash = z.object({ idDevice: fields.int64(), id_device: fields.int64(), ts: fields.timestamp() });
    expect(() =>
      defineCollection({
        name: "x",
        schema: clash,
        timestampField: "ts",
        naturalKey: ["ts"],
        partition: { buckets: 4 },
      }),
    ).toThrow(/two fields map to the lake column id_device/);
  });

  it("refuses an append table without a watermark and a merge table without tracked columns", () => {
    const t = z.object({ id: fields.int64() });
    expect(() => defineTable({ name: "h", schema: t, behaviour: "append", naturalKey: ["id"] })).toThrow(
      /watermark/,
    );
    expect(() => defineTable({ name: "d", schema: t, behaviour: "merge", naturalKey: ["id"] })).toThrow(
      /tracked/,
    );
  });
});

describe("derived target schemas", () => {
  const alarm = collection("alarm");

  it("derives the alarm Glue columns, payload last", () => {
    expect(glueColumnsOf(alarm)).toEqual([
      { name: "id", type: "string", comment: "source field _id" },
      { name: "id_device", type: "bigint", comment: "source field idDevice" },
      { name: "code", type: "int" },
      { name: "class", type: "string" },
      { name: "active_ts", type: "timestamp", comment: "source field activeTS" },
      { name: "reset_ts", type: "timestamp", comment: "source field resetTS" },
      { name: "activation_mail", type: "boolean", comment: "source field activationMail" },
      { name: "reset_mail", type: "boolean", comment: "source field resetMail" },
      { name: "payload", type: "string" },
    ]);
  });

  it("derives the Parquet schema with matching optionality, types and statistics", () => {
    const schema = parquetSchemaOf(alarm);
    const byName = new Map(schema.map((c) => [c.name, c]));
    expect(byName.get("active_ts")).toMatchObject({
      physical: "INT64",
      converted: "TIMESTAMP_MILLIS",
      repetition: "REQUIRED",
      statistics: true,
    });
    expect(byName.get("reset_ts")?.repetition).toBe("OPTIONAL");
    expect(byName.get("id_device")).toMatchObject({ physical: "INT64", statistics: true });
    expect(byName.get("id_device")?.converted).toBeUndefined();
    expect(byName.get("payload")).toMatchObject({
      physical: "BYTE_ARRAY",
      converted: "UTF8",
      statistics: false,
    });
    expect(schema.map((c) => c.name)).toEqual(alarm.columns.map((c) => c.name));
  });

  it("derives Iceberg fields with ids, required flags and timestamptz", () => {
    const s = icebergSchemaOf(alarm);
    expect(s.fields[0]).toEqual({ id: 1, name: "id", required: true, type: "string" });
    expect(s.fields.find((f) => f.name === "reset_ts")).toEqual({
      id: 6,
      name: "reset_ts",
      required: false,
      type: "timestamptz",
    });
  });

  it("partitions by device bucket and time, never one partition per device", () => {
    expect(icebergPartitionOf(alarm).map((p) => p.sql)).toEqual([
      "bucket(16, id_device)",
      "years(active_ts)",
    ]);
    expect(icebergPartitionOf(collection("sdata")).map((p) => p.transform)).toEqual(["bucket[4]"]);
  });

  it("covers every column type in every target table", () => {
    for (const target of [GLUE_TYPE, ICEBERG_TYPE]) {
      for (const entry of [...collections, ...tables]) {
        for (const col of entry.columns) expect(target[col.type]).toBeTruthy();
      }
    }
  });

  it("exports the Glue jobs' table list with lake names only", () => {
    const list = jobTables();
    expect(list.collections).toHaveLength(13);
    expect(list.tables).toHaveLength(14);
    const alarmJob = list.collections.find((c) => c.name === "alarm");
    expect(alarmJob).toMatchObject({
      timestampColumn: "active_ts",
      updatedColumn: "reset_ts",
      naturalKey: ["id"],
      sortOrder: ["id_device", "active_ts"],
    });
    const history = list.tables.find((t) => t.name === "device_recipe_history");
    expect(history).toMatchObject({ behaviour: "append", watermark: "id" });
    expect(JSON.parse(JSON.stringify(list))).toEqual(list);
  });
});
