/**
 * Errors of the support database: applying its migrations. Each names the migration it is about,
 * and says whether running again can help (only waiting for another runner's lock can).
 */
import { PipelineError } from "../errors.js";

/** Base of the migration errors: `migrationName` is the folder name under prisma/migrations. */
export abstract class MigrationError extends PipelineError {
  readonly migrationName: string | undefined;

  constructor(message: string, migrationName?: string, options?: { cause?: unknown }) {
    super(message, {}, options);
    this.migrationName = migrationName;
  }
}

/**
 * An applied migration's migration.sql no longer has the checksum recorded when it was applied:
 * someone edited a shipped migration. Write a new migration instead; never edit an applied one.
 */
export class MigrationChecksumError extends MigrationError {
  readonly retryable = false;
  readonly recorded: string;
  readonly actual: string;

  constructor(migrationName: string, recorded: string, actual: string) {
    super(
      `migration ${migrationName} was modified after it was applied ` +
        `(recorded checksum ${recorded}, file has ${actual}); add a new migration instead`,
      migrationName,
    );
    this.recorded = recorded;
    this.actual = actual;
  }
}

/** The database records a migration the migrations directory does not have (older checkout?). */
export class MigrationMissingError extends MigrationError {
  readonly retryable = false;

  constructor(migrationName: string, dir: string) {
    super(
      `migration ${migrationName} is applied to the database but missing from ${dir}; ` +
        "is this checkout older than the database?",
      migrationName,
    );
  }
}

/**
 * A previous attempt left a migration started but neither finished nor rolled back (Prisma's
 * P3009 state, e.g. after `prisma migrate deploy` failed mid-script). The database may be half
 * migrated: inspect it, then mark the row rolled back (`rolled_back_at`) or finished by hand.
 */
export class FailedMigrationError extends MigrationError {
  readonly retryable = false;

  constructor(migrationName: string, startedAt: Date, logs: string | null) {
    super(
      `migration ${migrationName} started at ${startedAt.toISOString()} failed and was not resolved` +
        (logs ? `: ${logs.trim()}` : ""),
      migrationName,
    );
  }
}

/** A migration's SQL failed; its transaction rolled back, so the database is as before it. */
export class MigrationApplyError extends MigrationError {
  readonly retryable = false;

  constructor(migrationName: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`migration ${migrationName} failed and was rolled back: ${detail}`, migrationName, { cause });
  }
}

/**
 * The migrations directory cannot be used: no migration.sql in a folder, or migration_lock.toml
 * names another provider than postgresql.
 */
export class MigrationDirectoryError extends MigrationError {
  readonly retryable = false;
}

/**
 * The database has tables but no `_prisma_migrations`: it was not created by these migrations
 * (Prisma refuses the same with P3005). Baseline it by hand rather than guess.
 */
export class DatabaseNotEmptyError extends MigrationError {
  readonly retryable = false;
}

/** Another runner held the migration lock longer than the timeout; running again can succeed. */
export class MigrationLockTimeoutError extends MigrationError {
  readonly retryable = true;
}
