/**
 * The neutral column model: every lake schema is read once into a list of {@link ColumnSpec},
 * and each target (Parquet, Glue, Iceberg, the Glue jobs' table list) maps from that list with
 * its own lookup table. A zod type without a lake type throws {@link UnsupportedTypeError}.
 */
import { z } from "zod";
import { UnsupportedTypeError } from "../errors.js";

export const COLUMN_TYPES = ["string", "int32", "int64", "float64", "boolean", "timestamp", "json"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSpec {
  /** Lake column name: lowercase snake_case, valid unquoted in Athena, Spark and Glue. */
  readonly name: string;
  /** Field name in the source document or row. */
  readonly source: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
}

/**
 * Lake name of a source field: leading underscores dropped (`_id` → `id`), camelCase and runs of
 * capitals split (`idDevice` → `id_device`, `activeTS` → `active_ts`), lowercased. Athena stores
 * names in lowercase, so `activeTS` and `activets` would otherwise collide silently.
 */
export function lakeColumnName(source: string): string {
  return source
    .replace(/^_+/, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9_]/g, "_")
    .toLowerCase();
}

type AnyDef = { type: string; innerType?: z.ZodType; out?: z.ZodType; format?: string | null };

function defOf(schema: z.ZodType): AnyDef {
  return (schema as unknown as { _zod: { def: AnyDef } })._zod.def;
}

/** Resolve wrappers down to the type that decides the column, tracking nullability. */
function resolve(schema: z.ZodType, source: string): { type: ColumnType; nullable: boolean } {
  let nullable = false;
  let current = schema;
  for (;;) {
    const def = defOf(current);
    switch (def.type) {
      case "optional":
      case "nullable":
        nullable = true;
        current = def.innerType as z.ZodType;
        continue;
      case "default":
      case "readonly":
        current = def.innerType as z.ZodType;
        continue;
      case "pipe":
        // Field builders are preprocess pipes: the output side is the stored type.
        current = def.out as z.ZodType;
        continue;
      default:
        return { type: scalarType(current, def, source), nullable };
    }
  }
}

function scalarType(schema: z.ZodType, def: AnyDef, source: string): ColumnType {
  switch (def.type) {
    case "string":
      return z.globalRegistry.get(schema)?.lakeType === "json" ? "json" : "string";
    case "boolean":
      return "boolean";
    case "date":
      return "timestamp";
    case "number": {
      const format = (schema as unknown as { format?: string | null }).format;
      if (format === "int32") return "int32";
      if (format === "safeint") return "int64";
      if (format == null) return "float64";
      throw new UnsupportedTypeError(`field ${source}: number format ${format} has no lake type`, {
        field: source,
      });
    }
    default:
      throw new UnsupportedTypeError(`field ${source}: zod type ${def.type} has no lake type`, {
        field: source,
      });
  }
}

/** Columns of an object schema, in declaration order. */
export function columnsOf(schema: z.ZodObject): ColumnSpec[] {
  return Object.entries(schema.shape).map(([source, field]) => ({
    name: lakeColumnName(source),
    source,
    ...resolve(field as z.ZodType, source),
  }));
}
