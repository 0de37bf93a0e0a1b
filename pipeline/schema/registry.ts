/**
 * The registry: every MongoDB collection and `ddc` table that goes to the lake, with the lake
 * metadata that the worker, the Glue jobs and the catalog need. Everything else (Parquet schemas,
 * Glue columns, Iceberg types, the Glue jobs' table list) is derived from these entries.
 */
import type { z } from "zod";
import { RegistryError } from "../errors.js";
import * as c from "./collections.js";
import { type ColumnSpec, columnsOf } from "./columns.js";
import * as t from "./tables.js";

/** Name of the JSON column that holds the fields a document has beyond its schema. */
export const PAYLOAD_COLUMN = "payload";

/** Iceberg hidden partitioning of a curated collection: `bucket(buckets, id_device)` + time. */
export interface PartitionSpec {
  readonly buckets: number;
  /** Time transform on the collection's timestamp column; omitted for tiny collections. */
  readonly time?: "year" | "month";
}

type Keys<S extends z.ZodObject> = Extract<keyof z.infer<S>, string>;

const HOUR_MS = 3_600_000;

/**
 * A collection whose source documents are not one row each: the worker reshapes them, and this
 * says how. `pivot`: a source document (a slot) holds one variable of one device over
 * `grid.hoursPerSlot` hours, as hourly sub-documents `samples: [{ hour, values }]` with a reading
 * every `grid.stepSeconds` (`values[i]` at slot start + `hour` hours + `i` steps, null where
 * nothing was measured); a lake row holds every variable of one device at one instant. The slot
 * start is the entry's `sourceTimestampField`, the row's instant its `timestampField`, the device
 * `idDevice` in both; the variable's value names the source field (lake column) it fills.
 */
export interface PivotReshape {
  readonly kind: "pivot";
  /** A slot document as stored; keys beyond it are counted as drift (the rows have no payload). */
  readonly slot: z.ZodObject;
  /** The slot field whose value is the schema field the slot's readings go to (`variable`). */
  readonly variableField: string;
  readonly grid: {
    readonly stepSeconds: number;
    readonly samplesPerHour: number;
    readonly hoursPerSlot: number;
  };
}

/** How the worker turns a collection's documents into rows, when not one document per row. */
export type Reshape = PivotReshape;

export interface CollectionEntry<S extends z.ZodObject = z.ZodObject> {
  readonly kind: "collection";
  readonly name: string;
  readonly schema: S;
  /** Lake row field that orders the collection in time (differs per collection). */
  readonly timestampField: Keys<S>;
  /**
   * MongoDB field the worker windows and indexes on. The same as `timestampField` except where
   * the worker reshapes documents: `variable_logs` slots carry `day`, their rows `time`.
   */
  readonly sourceTimestampField: string;
  /**
   * Length of the source's indivisible time unit, if any (a pivoted collection's slot, derived
   * from its {@link PivotReshape} grid). Windows end on multiples of it, so a unit that may still
   * grow past `last_log_date` waits.
   */
  readonly alignMs?: number;
  /** How documents become rows, when not one each (`variable_logs`: slots pivoted to rows). */
  readonly reshape?: Reshape;
  /**
   * Documents per cursor batch, where the worker's default would hold too much at once
   * (`variable_logs` slots are ~10 KB each).
   */
  readonly cursorBatch?: number;
  /** Further timestamp that re-selects a changed document (alarm: `resetTS`). */
  readonly updatedField?: Keys<S>;
  /** Source fields that identify a row in curated; merges and dedups use them. */
  readonly naturalKey: readonly Keys<S>[];
  readonly partition: PartitionSpec;
  /** Whether unknown fields fold into {@link PAYLOAD_COLUMN}. */
  readonly payload: boolean;
  /** Lake columns, payload included: derived, never written by hand. */
  readonly columns: readonly ColumnSpec[];
}

export type TableBehaviour = "replace" | "append" | "merge";

export interface TableEntry<S extends z.ZodObject = z.ZodObject> {
  readonly kind: "table";
  readonly name: string;
  readonly schema: S;
  /**
   * `snapshot`: replaced whole and atomically each run; `append`: only rows past the watermark;
   * `merge`: `MERGE INTO` on the natural key, keeping history through Iceberg snapshots.
   */
  readonly behaviour: TableBehaviour;
  readonly naturalKey: readonly Keys<S>[];
  /** Append tables: the increasing column the watermark is taken on. */
  readonly watermark?: Keys<S>;
  /** Merge tables: a row is updated when any of these changed (compared null-safe). */
  readonly tracked?: readonly Keys<S>[];
  readonly columns: readonly ColumnSpec[];
}

export type RegistryEntry = CollectionEntry | TableEntry;

function checkKeys(name: string, columns: readonly ColumnSpec[], keys: readonly string[]): void {
  const sources = new Set(columns.map((col) => col.source));
  for (const key of keys) {
    if (!sources.has(key)) throw new RegistryError(`${name}: ${key} is not a field of the schema`);
  }
  const names = columns.map((col) => col.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new RegistryError(`${name}: two fields map to the lake column ${dup}`);
}

export function defineCollection<S extends z.ZodObject>(
  def: Omit<CollectionEntry<S>, "kind" | "columns" | "payload" | "sourceTimestampField"> & {
    payload?: boolean;
    sourceTimestampField?: string;
  },
): CollectionEntry<S> {
  const payload = def.payload ?? true;
  const sourceTimestampField = def.sourceTimestampField ?? def.timestampField;
  const columns = columnsOf(def.schema);
  if (payload) {
    columns.push({ name: PAYLOAD_COLUMN, source: PAYLOAD_COLUMN, type: "json", nullable: true });
  }
  const keys = [def.timestampField, ...(def.updatedField ? [def.updatedField] : []), ...def.naturalKey];
  checkKeys(def.name, columns, keys);
  if (!columns.some((col) => col.source === "idDevice")) {
    throw new RegistryError(`${def.name}: every collection needs idDevice`);
  }
  const alignMs = def.reshape
    ? checkPivot(def.name, def.schema, def.reshape, payload, sourceTimestampField)
    : undefined;
  if (alignMs !== undefined && def.alignMs !== undefined && def.alignMs !== alignMs) {
    throw new RegistryError(`${def.name}: alignMs ${def.alignMs} is not the slot length ${alignMs}`);
  }
  return Object.freeze({
    ...def,
    kind: "collection",
    payload,
    sourceTimestampField,
    ...(alignMs === undefined ? {} : { alignMs }),
    columns: Object.freeze(columns),
  });
}

/**
 * A pivot the worker can run: the slot has the fields the pivot reads, each variable it may name
 * is a field of the row schema, and the rows carry no payload. Returns the slot length, which
 * the windows align to so no slot is split.
 */
function checkPivot(
  name: string,
  schema: z.ZodObject,
  reshape: PivotReshape,
  payload: boolean,
  slotStart: string,
): number {
  if (payload) throw new RegistryError(`${name}: a pivoted collection's rows carry no payload`);
  const slot = reshape.slot.shape as Record<string, unknown>;
  for (const field of ["idDevice", "samples", reshape.variableField, slotStart]) {
    if (!(field in slot)) throw new RegistryError(`${name}: the pivot's slot has no field ${field}`);
  }
  const variables = (slot[reshape.variableField] as { options?: unknown }).options;
  if (Array.isArray(variables)) {
    const unknown = variables.filter((v) => !(String(v) in schema.shape));
    if (unknown.length) throw new RegistryError(`${name}: variables ${unknown.join(", ")} have no column`);
  }
  const { stepSeconds, samplesPerHour, hoursPerSlot } = reshape.grid;
  if (!(stepSeconds > 0 && hoursPerSlot > 0) || stepSeconds * samplesPerHour * 1000 !== HOUR_MS) {
    throw new RegistryError(`${name}: the pivot's grid does not fill an hour`);
  }
  return hoursPerSlot * HOUR_MS;
}

export function defineTable<S extends z.ZodObject>(
  def: Omit<TableEntry<S>, "kind" | "columns">,
): TableEntry<S> {
  const columns = columnsOf(def.schema);
  const keys = [...def.naturalKey, ...(def.watermark ? [def.watermark] : []), ...(def.tracked ?? [])];
  checkKeys(def.name, columns, keys);
  if (def.behaviour === "append" && !def.watermark) {
    throw new RegistryError(`${def.name}: an append table needs a watermark column`);
  }
  if (def.behaviour === "merge" && !def.tracked?.length) {
    throw new RegistryError(`${def.name}: a merge table needs tracked columns`);
  }
  return Object.freeze({ ...def, kind: "table", columns: Object.freeze(columns) });
}

const big: PartitionSpec = { buckets: 16, time: "year" };
const small: PartitionSpec = { buckets: 4 };

export const collections = [
  defineCollection({
    name: "alarm",
    schema: c.AlarmSchema,
    timestampField: "activeTS",
    updatedField: "resetTS",
    naturalKey: ["_id"],
    partition: big,
  }),
  defineCollection({
    name: "end_of_prog",
    schema: c.EndOfProgSchema,
    timestampField: "ts",
    naturalKey: ["_id"],
    partition: big,
  }),
  defineCollection({
    name: "end_of_prog_aggregated",
    schema: c.EndOfProgAggregatedSchema,
    timestampField: "day",
    naturalKey: ["_id"],
    partition: big,
  }),
  defineCollection({
    name: "events",
    schema: c.EventsSchema,
    timestampField: "timestamp",
    naturalKey: ["_id"],
    partition: big,
  }),
  defineCollection({
    name: "evereo_sess",
    schema: c.EvereoSessSchema,
    timestampField: "startTS",
    naturalKey: ["_id"],
    partition: small,
  }),
  defineCollection({
    name: "request",
    schema: c.RequestSchema,
    timestampField: "requestTS",
    naturalKey: ["_id"],
    partition: big,
  }),
  defineCollection({
    name: "sd_events",
    schema: c.SdEventsSchema,
    timestampField: "time",
    naturalKey: ["_id"],
    partition: big,
  }),
  defineCollection({
    name: "sd_haccp",
    schema: c.SdHaccpSchema,
    timestampField: "time",
    naturalKey: ["_id"],
    partition: big,
  }),
  defineCollection({
    name: "sd_messages",
    schema: c.SdMessagesSchema,
    timestampField: "sentAt",
    naturalKey: ["_id"],
    partition: big,
  }),
  defineCollection({
    name: "sd_variables",
    schema: c.SdVariablesSchema,
    timestampField: "time",
    naturalKey: ["_id"],
    partition: big,
  }),
  defineCollection({
    name: "sdata",
    schema: c.SdataSchema,
    timestampField: "ts",
    naturalKey: ["_id"],
    partition: small,
  }),
  defineCollection({
    name: "variable_logs",
    schema: c.VariableLogsSchema,
    timestampField: "time",
    sourceTimestampField: "day",
    naturalKey: ["idDevice", "time"],
    // The wide row is built by the worker from slot documents; a slot's extra keys are counted
    // as drift by the worker rather than folded into every one of its 720 rows.
    payload: false,
    reshape: {
      kind: "pivot",
      slot: c.VariableLogSlotSchema,
      variableField: "variable",
      grid: c.VARIABLE_LOG_SHAPE,
    },
    cursorBatch: 200,
    partition: { buckets: 32, time: "month" },
  }),
  defineCollection({
    name: "working_minutes_logs",
    schema: c.WorkingMinutesLogsSchema,
    timestampField: "date",
    naturalKey: ["_id"],
    partition: small,
  }),
] as const;

const snapshot = (name: string, schema: z.ZodObject) =>
  defineTable({ name, schema, behaviour: "replace", naturalKey: ["id"] });

export const tables = [
  snapshot("company", t.CompanySchema),
  snapshot("device_group", t.DeviceGroupSchema),
  defineTable({
    name: "device",
    schema: t.DeviceSchema,
    behaviour: "merge",
    naturalKey: ["id"],
    tracked: Object.keys(t.DeviceSchema.shape).filter((k) => k !== "id") as Keys<typeof t.DeviceSchema>[],
  }),
  snapshot("device_recipe", t.DeviceRecipeSchema),
  snapshot("community_recipe", t.CommunityRecipeSchema),
  snapshot("chefunox_recipe", t.ChefunoxRecipeSchema),
  snapshot("recipe_company", t.RecipeCompanySchema),
  snapshot("recipe_device_group", t.RecipeDeviceGroupSchema),
  snapshot("recipe_device", t.RecipeDeviceSchema),
  defineTable({
    name: "device_recipe_history",
    schema: t.DeviceRecipeHistorySchema,
    behaviour: "append",
    naturalKey: ["id"],
    watermark: "id",
  }),
  defineTable({
    name: "device_ip_info_history",
    schema: t.DeviceIpInfoHistorySchema,
    behaviour: "append",
    naturalKey: ["id"],
    watermark: "id",
  }),
  snapshot("company_parameter", t.CompanyParameterSchema),
  snapshot("device_profile", t.DeviceProfileSchema),
  snapshot("device_settings", t.DeviceSettingsSchema),
] as const;

export type CollectionName = (typeof collections)[number]["name"];
export type TableName = (typeof tables)[number]["name"];

const byName = new Map<string, RegistryEntry>(
  [...collections, ...tables].map((e) => [`${e.kind}:${e.name}`, e]),
);

export function collection(name: string): CollectionEntry {
  const entry = byName.get(`collection:${name}`);
  if (!entry) throw new RegistryError(`unknown collection ${name}`, { collection: name });
  return entry as CollectionEntry;
}

export function table(name: string): TableEntry {
  const entry = byName.get(`table:${name}`);
  if (!entry) throw new RegistryError(`unknown table ${name}`, { table: name });
  return entry as TableEntry;
}

/** Lake column name of a source field of an entry. */
export function lakeName(entry: RegistryEntry, source: string): string {
  const col = entry.columns.find((x) => x.source === source);
  if (!col) throw new RegistryError(`${entry.name}: ${source} is not a field of the schema`);
  return col.name;
}
