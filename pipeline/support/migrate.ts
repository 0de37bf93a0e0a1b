/**
 * Applies the support database's migrations (prisma/migrations) the way `prisma migrate deploy`
 * does, without Prisma's schema engine binary, which cannot be installed here (ADR 0004).
 *
 * Mirrored from the schema engine, so the real `prisma migrate deploy` can take over a database
 * this runner migrated, and the other way round:
 * - the `_prisma_migrations` table, column for column
 *   (schema-engine/connectors/sql-schema-connector/src/flavour/postgres.rs);
 * - the checksum: SHA-256 hex of migration.sql, matched regardless of LF/CRLF line endings
 *   (schema-engine/connectors/schema-connector/src/checksum.rs);
 * - the session advisory lock `pg_advisory_lock(72707369)`, so runners never race;
 * - migration folders applied in name order; a row with neither `finished_at` nor
 *   `rolled_back_at` (a failed attempt) stops everything (Prisma's P3009), rolled-back rows are
 *   ignored, and a database with tables but no history is refused (P3005).
 * Stricter than Prisma: each migration runs in one transaction with its history row, and an
 * edited or missing applied migration is an error (deploy does not check those).
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import {
  DatabaseNotEmptyError,
  FailedMigrationError,
  MigrationApplyError,
  MigrationChecksumError,
  MigrationDirectoryError,
  MigrationLockTimeoutError,
  MigrationMissingError,
} from "./errors.js";

/** Where the migration folders live, relative to the working directory (the repo root). */
export const DEFAULT_MIGRATIONS_DIR = "prisma/migrations";

/** Prisma Migrate's advisory lock key: taking the same one also excludes a real `prisma migrate`. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

/**
 * How long to wait for another runner's lock. Prisma gives up after 10 s; a runner here may wait
 * behind a whole migration of another process (stack start and tests in parallel), so longer.
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

/** `prisma migrate deploy`'s history table, verbatim (including its column order and types). */
export const PRISMA_MIGRATIONS_TABLE_DDL = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

/** Minimal structured logger; a pino logger fits. */
export interface MigrationLogger {
  info(obj: object, msg: string): void;
}

export interface ApplyMigrationsOptions {
  /** Folder holding `<name>/migration.sql` folders and migration_lock.toml. */
  readonly dir?: string;
  readonly log?: MigrationLogger;
  readonly lockTimeoutMs?: number;
}

/** A migration folder found on disk. */
export interface MigrationFolder {
  readonly name: string;
  readonly script: string;
  /** SHA-256 hex of migration.sql's bytes, as Prisma records it. */
  readonly checksum: string;
}

/** A migration this run applied. */
export interface AppliedMigration {
  readonly name: string;
  readonly checksum: string;
  readonly durationMs: number;
}

interface MigrationRow {
  readonly id: string;
  readonly checksum: string;
  readonly finished_at: Date | null;
  readonly migration_name: string;
  readonly logs: string | null;
  readonly rolled_back_at: Date | null;
  readonly started_at: Date;
}

/** SHA-256 hex of a migration script, as Prisma records it in `_prisma_migrations.checksum`. */
export function migrationChecksum(script: string | Uint8Array): string {
  return createHash("sha256").update(script).digest("hex");
}

/**
 * Whether `script` matches a recorded checksum, as Prisma decides it: the file as is, or with its
 * line endings converted either way (git may check a file out with CRLF on Windows). A checksum
 * shorter than 64 characters was written by an old Prisma that dropped leading zeros of each byte.
 */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll("\r\n", "\n"), script.replaceAll("\n", "\r\n")];
  return variants.some((variant) => {
    const digest = createHash("sha256").update(variant).digest();
    const rendered =
      checksum.length > 0 && checksum.length !== 64
        ? [...digest].map((b) => b.toString(16)).join("")
        : digest.toString("hex");
    return rendered === checksum;
  });
}

/**
 * The migration folders of `dir` in name order (Prisma's order: names start with a timestamp).
 * @throws MigrationDirectoryError when migration_lock.toml names another provider, or a folder
 * has no migration.sql.
 */
export async function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFolder[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    throw new MigrationDirectoryError(`cannot read migrations directory ${dir}`, undefined, { cause: error });
  });
  const lock = entries.find((e) => e.isFile() && e.name === "migration_lock.toml");
  if (lock) {
    const text = await readFile(join(dir, lock.name), "utf8");
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)?.[1];
    if (provider !== "postgresql") {
      throw new MigrationDirectoryError(
        `${join(dir, lock.name)} names provider ${JSON.stringify(provider)}, expected "postgresql"`,
      );
    }
  }
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name, "migration.sql");
      const bytes = await readFile(path).catch((error: unknown) => {
        throw new MigrationDirectoryError(`migration ${name} has no readable ${path}`, name, {
          cause: error,
        });
      });
      return { name, script: bytes.toString("utf8"), checksum: migrationChecksum(bytes) };
    }),
  );
}

/**
 * Apply the pending migrations of `dir` to the database at `databaseUrl`, each in its own
 * transaction together with its `_prisma_migrations` row, under Prisma's advisory lock.
 * @returns the migrations applied by this call, in order; empty when the database was current.
 * @throws FailedMigrationError, MigrationChecksumError, MigrationMissingError,
 * DatabaseNotEmptyError or MigrationDirectoryError before applying anything;
 * MigrationApplyError when a migration's SQL fails (that migration is rolled back, earlier ones
 * of the same call stay applied); MigrationLockTimeoutError when another runner holds the lock.
 */
export async function applyMigrations(
  databaseUrl: string,
  options: ApplyMigrationsOptions = {},
): Promise<AppliedMigration[]> {
  const dir = options.dir ?? DEFAULT_MIGRATIONS_DIR;
  const log = options.log;
  const folders = await readMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "lakehouse-migrate" });
  await client.connect();
  let locked = false;
  try {
    await acquireMigrationLock(client, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
    locked = true;
    await ensureHistoryTable(client);
    const { rows } = await client.query<MigrationRow>(
      "SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at " +
        "FROM _prisma_migrations ORDER BY started_at, migration_name",
    );
    const pending = pendingMigrations(folders, rows, dir);
    log?.info(
      { dir, onDisk: folders.length, pending: pending.map((m) => m.name) },
      pending.length ? "applying migrations" : "support database is up to date",
    );
    const applied: AppliedMigration[] = [];
    for (const migration of pending) {
      const done = await applyOne(client, migration);
      log?.info(
        { migration: done.name, checksum: done.checksum, durationMs: done.durationMs },
        "migration applied",
      );
      applied.push(done);
    }
    return applied;
  } finally {
    if (locked) await releaseMigrationLock(client);
    await client.end();
  }
}

/**
 * Take Prisma Migrate's session-level advisory lock, waiting at most `timeoutMs` (`lock_timeout`,
 * reset once held). Advisory locks belong to the current database, so runners on other databases
 * of the same server never wait for each other. Provisioning the users (provision-users.ts) takes
 * it too, so two migrate functions never race on a role's password.
 * @throws MigrationLockTimeoutError when another session held it longer.
 */
export async function acquireMigrationLock(client: pg.ClientBase, timeoutMs: number): Promise<void> {
  await client.query("SELECT set_config('lock_timeout', $1, false)", [
    `${Math.max(1, Math.round(timeoutMs))}ms`,
  ]);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
  } catch (error) {
    // 55P03 lock_not_available: lock_timeout expired while another session held the lock.
    if ((error as { code?: string }).code === "55P03") {
      throw new MigrationLockTimeoutError(
        `another migration runner held lock ${PRISMA_MIGRATE_LOCK_KEY} for more than ${timeoutMs} ms`,
        undefined,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await client.query("RESET lock_timeout");
  }
}

/** Release {@link acquireMigrationLock}'s lock; never throws (the session's end releases it anyway). */
export async function releaseMigrationLock(client: pg.ClientBase): Promise<void> {
  await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK_KEY]).catch(() => {});
}

/** Create `_prisma_migrations` in an empty database; refuse a populated one without history. */
async function ensureHistoryTable(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ exists: boolean }>(
    "SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists",
  );
  if (rows[0]?.exists) return;
  const found = await client.query<{ name: string }>(
    `SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')
     UNION ALL
     SELECT t.typname::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = current_schema() AND t.typtype = 'e'
     ORDER BY 1 LIMIT 5`,
  );
  if (found.rows.length > 0) {
    throw new DatabaseNotEmptyError(
      `the database schema is not empty (${found.rows.map((r) => r.name).join(", ")}, ...) but has no ` +
        "_prisma_migrations table; it was not created by these migrations",
    );
  }
  await client.query(PRISMA_MIGRATIONS_TABLE_DDL);
}

/** Check the recorded history against the folders; return the folders still to apply. */
function pendingMigrations(
  folders: readonly MigrationFolder[],
  rows: readonly MigrationRow[],
  dir: string,
): MigrationFolder[] {
  const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
  if (failed) throw new FailedMigrationError(failed.migration_name, failed.started_at, failed.logs);
  const byName = new Map(folders.map((f) => [f.name, f]));
  const applied = rows.filter((r) => r.rolled_back_at === null);
  for (const row of applied) {
    const folder = byName.get(row.migration_name);
    if (!folder) throw new MigrationMissingError(row.migration_name, dir);
    if (!scriptMatchesChecksum(folder.script, row.checksum)) {
      throw new MigrationChecksumError(row.migration_name, row.checksum, folder.checksum);
    }
  }
  const done = new Set(applied.map((r) => r.migration_name));
  return folders.filter((f) => !done.has(f.name));
}

/**
 * One migration and its history row in one transaction. On failure the transaction rolls back,
 * then the attempt is recorded as rolled back (`rolled_back_at`, `logs`): Prisma's state after
 * `migrate resolve --rolled-back`, so the history shows it and the next run applies it again.
 */
async function applyOne(client: pg.Client, migration: MigrationFolder): Promise<AppliedMigration> {
  const started = performance.now();
  const id = randomUUID();
  try {
    await client.query("BEGIN");
    await client.query("INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ($1, $2, $3)", [
      id,
      migration.checksum,
      migration.name,
    ]);
    // No parameters: node-postgres sends the simple query protocol, which runs many statements.
    await client.query(migration.script);
    // clock_timestamp(), not now(): now() is the transaction's start, i.e. started_at.
    await client.query(
      "UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1, " +
        "finished_at = clock_timestamp() WHERE id = $1",
      [id],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    const logs = error instanceof Error ? error.message : String(error);
    await client
      .query(
        "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, rolled_back_at) " +
          "VALUES ($1, $2, $3, $4, now())",
        [id, migration.checksum, migration.name, logs],
      )
      .catch(() => {});
    throw new MigrationApplyError(migration.name, error);
  }
  return {
    name: migration.name,
    checksum: migration.checksum,
    durationMs: Math.round(performance.now() - started),
  };
}
