/**
 * A faster `shredRecord` for parquetjs when the schema is flat, as every lake schema is
 * (`parquetSchemaOf`: top-level primitive columns, OPTIONAL or REQUIRED). parquetjs shreds each row
 * through its general Dremel walk, which builds a scratch object with arrays and a Set per column
 * and joins every field's path twice: about a third of the worker's JavaScript time. For a flat
 * schema a row is one value or null per column, so this writes the same row buffer directly.
 *
 * Same result, byte for byte (tests/unit/flat-shred.test.ts): the same levels, values, distinct
 * values (the Set keeps the value as given, parquetjs's statistics come from it), counts, the same
 * errors in the same order, and a row that throws leaves the buffer untouched, because every value
 * is converted before the buffer is changed, as parquetjs does.
 *
 * Installed by replacing `shredRecord` on parquetjs's shred module object, which the writer reads
 * at each `appendRow`; other schemas go through the original.
 */
import type { ParquetSchema } from "@dsnp/parquetjs";
import type { ParquetField } from "@dsnp/parquetjs/dist/lib/declare.js";
import shredModule, { type RecordBuffer } from "@dsnp/parquetjs/dist/lib/shred.js";
import parquetTypes from "@dsnp/parquetjs/dist/lib/types.js";

type ShredRecord = (schema: ParquetSchema, record: Record<string, unknown>, buffer: RecordBuffer) => void;

/**
 * The CommonJS `module.exports` of shred.js, the object parquetjs's writer calls through. A
 * default import, not `import * as`: Node and esbuild (in a `"type": "module"` package) both make
 * the default export that very object, while a namespace object's properties are read-only copies.
 */
const shredExports = shredModule as { shredRecord: ShredRecord };

/** parquetjs's own `shredRecord`, as it was before {@link installFlatShred}. */
export const originalShredRecord: ShredRecord = shredExports.shredRecord;

interface FlatColumn {
  /** Key of the row and of `columnData`: the field's name and its one-element path. */
  readonly name: string;
  readonly field: ParquetField;
  readonly type: string | undefined;
  readonly required: boolean;
}

// Per schema object; null: not flat. Schemas are not changed after construction.
const plans = new WeakMap<ParquetSchema, readonly FlatColumn[] | null>();

function planOf(schema: ParquetSchema): readonly FlatColumn[] | null {
  let plan = plans.get(schema);
  if (plan === undefined) {
    plan = flatPlan(schema);
    plans.set(schema, plan);
  }
  return plan;
}

function flatPlan(schema: ParquetSchema): readonly FlatColumn[] | null {
  const { fields, fieldList } = schema;
  const plan: FlatColumn[] = [];
  // parquetjs walks `fields` with for...in to read rows and `fieldList` to fill the buffer; a
  // flat schema is one where both are the same top-level columns in the same order.
  for (const name in fields) {
    const field = fields[name];
    if (field === undefined || field !== fieldList[plan.length]) return null;
    if (field.isNested || field.fields !== undefined || field.rLevelMax !== 0) return null;
    if (field.repetitionType !== "REQUIRED" && field.repetitionType !== "OPTIONAL") return null;
    if (field.path.length !== 1 || field.path[0] !== name || field.name !== name) return null;
    plan.push({
      name,
      field,
      type: field.originalType || field.primitiveType,
      required: field.repetitionType === "REQUIRED",
    });
  }
  return plan.length === fieldList.length ? plan : null;
}

/** True when every field of `schema` is a top-level, non-repeated primitive column. */
export function isFlatSchema(schema: ParquetSchema): boolean {
  return planOf(schema) !== null;
}

// Marks a null column in a row's converted values (a converted value may be undefined).
const NULL = Symbol("null");

/**
 * parquetjs's `shredRecord` for a flat schema: appends `record` to `buffer` exactly as it does.
 * @throws TypeError when `schema` is not flat ({@link isFlatSchema}).
 * @throws Error as parquetjs does for a missing REQUIRED column or a bad value; `buffer` is then
 *   left as it was.
 */
export function shredFlatRecord(
  schema: ParquetSchema,
  record: Record<string, unknown>,
  buffer: RecordBuffer,
): void {
  const plan = planOf(schema);
  if (plan === null) throw new TypeError("shredFlatRecord: the schema has nested or repeated fields");
  shredFlat(plan, schema, record, buffer);
}

function shredFlat(
  plan: readonly FlatColumn[],
  schema: ParquetSchema,
  record: Record<string, unknown>,
  buffer: RecordBuffer,
): void {
  // A record that is not an object (no row of ours) keeps parquetjs's own quirks: a falsy one
  // is a row of nulls even in REQUIRED columns, `in` throws on a truthy primitive.
  if (typeof record !== "object" || record === null) {
    originalShredRecord(schema, record, buffer);
    return;
  }
  const n = plan.length;
  // Per column: the value as given (for the distinct values) and the converted value, or NULL.
  const row: unknown[] = new Array(2 * n);
  for (let i = 0; i < n; i++) {
    const column = plan[i] as FlatColumn;
    let value = record[column.name];
    if (value !== undefined && value !== null) {
      if (Array.isArray(value)) {
        // parquetjs reads an array as the column's values: empty is null, one is taken as it is.
        if (value.length > 1) throw new Error(`too many values for field: ${column.field.name}`);
        value = value.length === 0 ? NULL : value[0];
      } else if (ArrayBuffer.isView(value)) {
        if (!(value instanceof Uint8Array)) {
          throw new Error(`${Object.prototype.toString.call(value)} is not supported`);
        }
        value = Buffer.from(value);
      }
    } else {
      value = NULL;
    }
    if (value === NULL) {
      if (column.required) throw new Error(`missing required field: ${column.field.name}`);
      row[2 * i] = NULL;
      row[2 * i + 1] = NULL;
    } else {
      row[2 * i] = value;
      row[2 * i + 1] = parquetTypes.toPrimitive(column.type, value, column.field);
    }
  }

  if (!("columnData" in buffer) || !("rowCount" in buffer)) {
    buffer.rowCount = 0;
    buffer.pageRowCount = 0;
    buffer.columnData = {};
    buffer.pages = {};
    for (const { name } of plan) {
      buffer.columnData[name] = {
        dlevels: [],
        rlevels: [],
        values: [],
        distinct_values: new Set(),
        count: 0,
      };
      buffer.pages[name] = [];
    }
  }
  buffer.rowCount = (buffer.rowCount as number) + 1;
  buffer.pageRowCount = (buffer.pageRowCount as number) + 1;
  const columnData = buffer.columnData as NonNullable<RecordBuffer["columnData"]>;
  for (let i = 0; i < n; i++) {
    const column = plan[i] as FlatColumn;
    const data = columnData[column.name] as Required<PageColumn>;
    const value = row[2 * i];
    data.rlevels.push(0);
    if (value === NULL) {
      data.dlevels.push(0);
    } else {
      data.dlevels.push(column.field.dLevelMax);
      const converted = row[2 * i + 1];
      if (converted !== undefined) data.values.push(converted);
      data.distinct_values.add(value);
    }
    data.count += 1;
  }
}

/** The parts of a buffer column that shredding fills. */
interface PageColumn {
  rlevels: number[];
  dlevels: number[];
  values: unknown[];
  distinct_values: Set<unknown>;
  count: number;
}

function flatOrOriginal(schema: ParquetSchema, record: Record<string, unknown>, buffer: RecordBuffer): void {
  const plan = planOf(schema);
  if (plan === null) originalShredRecord(schema, record, buffer);
  else shredFlat(plan, schema, record, buffer);
}

/**
 * Make parquetjs's writers shred rows of flat schemas with {@link shredFlatRecord}; idempotent.
 * Returns whether the writers now call it (false only if parquetjs's module could not be patched).
 */
export function installFlatShred(): boolean {
  if (shredExports.shredRecord !== flatOrOriginal) {
    try {
      shredExports.shredRecord = flatOrOriginal;
    } catch {
      // A frozen module object: parquetjs keeps its own shredding, which is correct, only slower.
    }
  }
  return shredExports.shredRecord === flatOrOriginal;
}

/** Whether {@link installFlatShred} is in effect. */
export function isFlatShredInstalled(): boolean {
  return shredExports.shredRecord === flatOrOriginal;
}
