/**
 * Support database (docs/design.md §4): the Prisma client of the ingestion's bookmarks, metrics, plans,
 * file ledger, drift counts and quarantine records, and the runner of its migrations.
 */
export type {
  DriftCount,
  FileLedger,
  Lastts,
  Metric,
  Plan,
  PlanBatch,
  Quarantine,
} from "../generated/prisma/client.js";
export { PlanMode, PlanStatus, Prisma } from "../generated/prisma/client.js";
export {
  createSupportClient,
  SUPPORT_POOL_MAX,
  type SupportClient,
  type SupportClientOptions,
} from "./client.js";
export {
  DatabaseNotEmptyError,
  FailedMigrationError,
  MigrationApplyError,
  MigrationChecksumError,
  MigrationDirectoryError,
  MigrationError,
  MigrationLockTimeoutError,
  MigrationMissingError,
} from "./errors.js";
export {
  type AppliedMigration,
  type ApplyMigrationsOptions,
  applyMigrations,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_MIGRATIONS_DIR,
  type MigrationFolder,
  type MigrationLogger,
  migrationChecksum,
  PRISMA_MIGRATE_LOCK_KEY,
  readMigrations,
  scriptMatchesChecksum,
} from "./migrate.js";
