/**
 * Types at the generator's boundaries. Rows and documents are typed by the lake's zod schemas
 * (the contract), so a builder that drifts from a schema fails to compile.
 */
import type { ObjectId } from "mongodb";
import type { z } from "zod";
import type * as c from "../../pipeline/schema/collections.js";
import type * as t from "../../pipeline/schema/tables.js";

/** Named sizes of a snapshot. */
export type ScaleName = "default" | "bench";

/** Everything the generated data depends on. Two equal configs give identical data. */
export interface SnapshotConfig {
  readonly seed: number;
  readonly scale: ScaleName;
  readonly devices: number;
  /** Length of the initial timeline in days, ending at {@link SnapshotConfig.end}. */
  readonly days: number;
  /** End of the initial timeline (epoch ms, UTC midnight): the clock right after `load`. */
  readonly end: number;
  /**
   * The MongoDB collections written, in registry order (default: all). Each collection draws
   * from its own random stream, so a loaded collection's documents are the same whichever
   * others are loaded with it; `ddc` is always loaded whole.
   */
  readonly collections: readonly SourceCollection[];
}

/** Output type of a schema: what the generator emits for it. */
type Out<S extends z.ZodType> = z.output<S>;

/** One row per `ddc` table, typed by its lake schema (`jsonb` columns as JSON text). */
export interface DdcTables {
  company: Out<typeof t.CompanySchema>;
  device_group: Out<typeof t.DeviceGroupSchema>;
  device: Out<typeof t.DeviceSchema>;
  device_recipe: Out<typeof t.DeviceRecipeSchema>;
  community_recipe: Out<typeof t.CommunityRecipeSchema>;
  chefunox_recipe: Out<typeof t.ChefunoxRecipeSchema>;
  recipe_company: Out<typeof t.RecipeCompanySchema>;
  recipe_device_group: Out<typeof t.RecipeDeviceGroupSchema>;
  recipe_device: Out<typeof t.RecipeDeviceSchema>;
  device_recipe_history: Out<typeof t.DeviceRecipeHistorySchema>;
  device_ip_info_history: Out<typeof t.DeviceIpInfoHistorySchema>;
  company_parameter: Out<typeof t.CompanyParameterSchema>;
  device_profile: Out<typeof t.DeviceProfileSchema>;
  device_settings: Out<typeof t.DeviceSettingsSchema>;
}
export type DdcTableName = keyof DdcTables;
export type DdcRows = { [K in DdcTableName]: DdcTables[K][] };

/**
 * Keys a few documents carry beyond their schema, so the worker's payload folding and drift
 * counting see real input. No key contains `.` or starts with `$` (FerretDB refuses them).
 */
export interface ExtraFields {
  fwBuild?: string;
  extra?: { nested: { slot: number; flag: boolean; note: string } };
  tags?: string[];
}
/** Names of the deliberate extra fields; strip them to compare a document with its schema. */
export const EXTRA_FIELDS = ["fwBuild", "extra", "tags"] as const satisfies readonly (keyof ExtraFields)[];

/** A document as stored in MongoDB: the schema's fields with a BSON ObjectId as `_id`. */
export type Stored<T> = Omit<T, "_id"> & { _id: ObjectId } & ExtraFields;

/** Documents per collection, as written to MongoDB. */
export interface SourceDocuments {
  alarm: Stored<Out<typeof c.AlarmSchema>>;
  end_of_prog: Stored<Out<typeof c.EndOfProgSchema>>;
  end_of_prog_aggregated: Stored<Out<typeof c.EndOfProgAggregatedSchema>>;
  events: Stored<Out<typeof c.EventsSchema>>;
  evereo_sess: Stored<Out<typeof c.EvereoSessSchema>>;
  request: Stored<Out<typeof c.RequestSchema>>;
  sd_events: Stored<Out<typeof c.SdEventsSchema>>;
  sd_haccp: Stored<Out<typeof c.SdHaccpSchema>>;
  sd_messages: Stored<Out<typeof c.SdMessagesSchema>>;
  sd_variables: Stored<Out<typeof c.SdVariablesSchema>>;
  sdata: Stored<Out<typeof c.SdataSchema>>;
  variable_logs: Stored<c.VariableLogSlot>;
  working_minutes_logs: Stored<Out<typeof c.WorkingMinutesLogsSchema>>;
}
export type SourceCollection = keyof SourceDocuments;
/** A document before its `_id` is assigned. */
export type Draft<K extends SourceCollection> = Omit<SourceDocuments[K], "_id">;

/** Minimal structured logger; a pino logger fits. */
export interface ProgressLogger {
  info(obj: object, msg: string): void;
}
