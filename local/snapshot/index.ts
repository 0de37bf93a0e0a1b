/**
 * Synthetic snapshot generator (docs/design.md §3, §7): a deterministic, scalable stand-in for the
 * production `ddc` database and MongoDB collections, with an "advance time" mode.
 */
export { type AdvanceOptions, type AdvanceReport, advanceSnapshot } from "./advance.js";
export { type DeviceChange, planDeviceChanges, planRecipeReplacements } from "./changes.js";
export { type SnapshotChecksum, snapshotChecksum } from "./checksum.js";
export { readSnapshotConnections, type SnapshotConnections } from "./config.js";
export {
  type DayContext,
  documentsOfDay,
  EXTRA_FIELD_SHARE,
  SOURCE_COLLECTIONS,
  SOURCE_TIMESTAMP_FIELD,
} from "./documents.js";
export { SnapshotStateError } from "./errors.js";
export { buildFleet, type DeviceProfile, dataHorizon, type Fleet, marksAt } from "./fleet.js";
export { DEFAULT_LOAD_CONCURRENCY, type LoadOptions, type LoadReport, loadSnapshot } from "./load.js";
export {
  type DeviceRange,
  deviceDocuments,
  loadRange,
  planDocuments,
  planSnapshot,
  type SnapshotPlan,
} from "./plan.js";
export { DDC_TABLES, ddcDdl, GENERATOR_VERSION, type SnapshotState } from "./postgres.js";
export { DEFAULT_SEED, resolveSnapshotConfig, SCALES, type SnapshotOptions } from "./scales.js";
export { formatSummary, type SnapshotSummary, showSnapshot } from "./show.js";
export { type OpenTargets, openTargets, type SnapshotTargets } from "./targets.js";
export { DEFAULT_END } from "./time.js";
export {
  type DdcRows,
  type DdcTableName,
  type DdcTables,
  EXTRA_FIELDS,
  type ProgressLogger,
  type ScaleName,
  type SnapshotConfig,
  type SourceCollection,
  type SourceDocuments,
} from "./types.js";
