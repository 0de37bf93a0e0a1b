/**
 * The support database against the local PostgreSQL: the migration runner (what it records, that
 * it runs once, under a lock, and refuses a history it cannot trust) and every model through the
 * generated Prisma client. Each test makes its own `support_test_<random>` database and the suite
 * drops them all (WITH (FORCE)) at the end.
 */
import { createHash, randomUUID } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConfigSchema } from "../../local/config.js";
import { parseEnv } from "../../pipeline/config.js";
import { PlanBatchNotFoundError, PlanNotFoundError } from "../../pipeline/ingest/plan-store.js";
import {
  applyMigrations,
  createSupportClient,
  DatabaseNotEmptyError,
  DEFAULT_MIGRATIONS_DIR,
  FailedMigrationError,
  MigrationApplyError,
  MigrationChecksumError,
  MigrationLockTimeoutError,
  MigrationMissingError,
  PRISMA_MIGRATE_LOCK_KEY,
  Prisma,
  readMigrations,
  type SupportClient,
} from "../../pipeline/support/index.js";
import { postgresIngestState } from "../../pipeline/support/ingest-state.js";
import { postgresPlanStore } from "../../pipeline/support/plan-store.js";
import { createSupportPool } from "../../pipeline/support/pool.js";

const { SUPPORT_DATABASE_URL } = parseEnv(
  LocalConfigSchema.pick({ SUPPORT_DATABASE_URL: true }),
  "support database test",
);
const admin = new pg.Client({ connectionString: SUPPORT_DATABASE_URL });
const databases: string[] = [];
const tempDirs: string[] = [];

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

/** A new empty database; returns its URL. Dropped in afterAll. */
async function freshDatabase(): Promise<string> {
  const name = `support_test_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  databases.push(name);
  const url = new URL(SUPPORT_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A copy of the repository's migrations that a test may edit. */
async function migrationsCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "support-migrations-"));
  tempDirs.push(dir);
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

interface HistoryRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const history = (url: string) =>
  query<HistoryRow>(url, "SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name");

describe("applyMigrations", () => {
  it("applies every migration to an empty database and records it as prisma migrate deploy does", async () => {
    const url = await freshDatabase();
    const folders = await readMigrations();
    expect(folders.length).toBeGreaterThan(0);

    const applied = await applyMigrations(url);

    expect(applied.map((m) => m.name)).toEqual(folders.map((f) => f.name));
    const rows = await history(url);
    expect(rows).toHaveLength(folders.length);
    for (const [i, row] of rows.entries()) {
      const bytes = await readFile(join(DEFAULT_MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      expect(row).toMatchObject({
        migration_name: folders[i]?.name,
        checksum: createHash("sha256").update(bytes).digest("hex"),
        logs: null,
        rolled_back_at: null,
        applied_steps_count: 1,
      });
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at?.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
  });

  it("creates _prisma_migrations with Prisma's exact columns", async () => {
    const url = await freshDatabase();
    await applyMigrations(url);
    const columns = await query(
      url,
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "character varying", len: 36, is_nullable: "NO", column_default: null },
      {
        column_name: "checksum",
        data_type: "character varying",
        len: 64,
        is_nullable: "NO",
        column_default: null,
      },
      {
        column_name: "finished_at",
        data_type: "timestamp with time zone",
        len: null,
        is_nullable: "YES",
        column_default: null,
      },
      {
        column_name: "migration_name",
        data_type: "character varying",
        len: 255,
        is_nullable: "NO",
        column_default: null,
      },
      { column_name: "logs", data_type: "text", len: null, is_nullable: "YES", column_default: null },
      {
        column_name: "rolled_back_at",
        data_type: "timestamp with time zone",
        len: null,
        is_nullable: "YES",
        column_default: null,
      },
      {
        column_name: "started_at",
        data_type: "timestamp with time zone",
        len: null,
        is_nullable: "NO",
        column_default: "now()",
      },
      {
        column_name: "applied_steps_count",
        data_type: "integer",
        len: null,
        is_nullable: "NO",
        column_default: "0",
      },
    ]);
  });

  it("applies nothing on a second run", async () => {
    const url = await freshDatabase();
    await applyMigrations(url);
    const before = await history(url);

    expect(await applyMigrations(url)).toEqual([]);
    expect(await history(url)).toEqual(before);
  });

  it("applies once when two runners start together (advisory lock)", async () => {
    const url = await freshDatabase();
    const folders = await readMigrations();

    const results = await Promise.all([applyMigrations(url), applyMigrations(url)]);

    const counts = results.map((r) => r.length).sort();
    expect(counts).toEqual([0, folders.length]);
    expect(await history(url)).toHaveLength(folders.length);
  });

  it("gives up with a retryable error when another session holds the lock too long", async () => {
    const url = await freshDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
      await expect(applyMigrations(url, { lockTimeoutMs: 200 })).rejects.toSatisfy(
        (e) => e instanceof MigrationLockTimeoutError && e.retryable,
      );
      expect(await query(url, "SELECT to_regclass('_prisma_migrations') AS t")).toEqual([{ t: null }]);
    } finally {
      await holder.end();
    }
    expect((await applyMigrations(url)).length).toBeGreaterThan(0);
  });

  it("refuses a migration edited after it was applied, but not one whose line endings changed", async () => {
    const url = await freshDatabase();
    const dir = await migrationsCopy();
    const [first] = await readMigrations(dir);
    if (!first) throw new Error("no migrations");
    await applyMigrations(url, { dir });
    const file = join(dir, first.name, "migration.sql");

    // git may check the file out with CRLF; Prisma accepts that, so must we.
    await writeFile(file, first.script.replaceAll("\n", "\r\n"));
    expect(await applyMigrations(url, { dir })).toEqual([]);

    await writeFile(file, `${first.script}\n-- edited\n`);
    const error = await applyMigrations(url, { dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationChecksumError);
    expect(error).toMatchObject({
      name: "MigrationChecksumError",
      retryable: false,
      migrationName: first.name,
      recorded: first.checksum,
    });
  });

  it("refuses a recorded migration whose folder is missing", async () => {
    const url = await freshDatabase();
    const dir = await migrationsCopy();
    const [first] = await readMigrations(dir);
    if (!first) throw new Error("no migrations");
    await applyMigrations(url, { dir });
    await rm(join(dir, first.name), { recursive: true });

    await expect(applyMigrations(url, { dir })).rejects.toSatisfy(
      (e) => e instanceof MigrationMissingError && e.migrationName === first.name,
    );
  });

  it("refuses to go on after a failed attempt that was not resolved", async () => {
    const url = await freshDatabase();
    await applyMigrations(url);
    await query(url, "UPDATE _prisma_migrations SET finished_at = NULL, logs = 'boom'");

    await expect(applyMigrations(url)).rejects.toSatisfy(
      (e) => e instanceof FailedMigrationError && /failed and was not resolved: boom/.test(e.message),
    );
  });

  it("rolls a failing migration back, records the attempt as rolled back, and applies it once fixed", async () => {
    const url = await freshDatabase();
    const dir = await migrationsCopy();
    const broken = join(dir, "99990101000000_broken");
    await mkdir(broken);
    await writeFile(join(broken, "migration.sql"), "CREATE TABLE half_done (x INTEGER);\nSELECT 1/0;\n");

    const error = await applyMigrations(url, { dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationApplyError);
    expect(error).toMatchObject({ migrationName: "99990101000000_broken" });
    expect(await query(url, "SELECT to_regclass('half_done') AS t")).toEqual([{ t: null }]);
    const attempt = (await history(url)).find((r) => r.migration_name === "99990101000000_broken");
    expect(attempt).toMatchObject({ finished_at: null, applied_steps_count: 0, logs: "division by zero" });
    expect(attempt?.rolled_back_at).toBeInstanceOf(Date);

    await writeFile(join(broken, "migration.sql"), "CREATE TABLE half_done (x INTEGER);\n");
    expect((await applyMigrations(url, { dir })).map((m) => m.name)).toEqual(["99990101000000_broken"]);
  });

  it("refuses a database that has tables but no migration history", async () => {
    const url = await freshDatabase();
    await query(url, "CREATE TABLE stray (x INTEGER)");

    await expect(applyMigrations(url)).rejects.toBeInstanceOf(DatabaseNotEmptyError);
  });
});

describe("Prisma client on the migrated schema", () => {
  let url: string;
  let db: SupportClient;
  let pool: ReturnType<typeof createSupportPool>;

  beforeAll(async () => {
    url = await freshDatabase();
    await applyMigrations(url);
    db = createSupportClient(url);
    pool = createSupportPool(url);
  });

  afterAll(async () => {
    await db?.$disconnect();
    await pool?.end();
  });

  /** The Prisma error code of a rejected promise (P2002: unique constraint). */
  async function prismaCode(promise: Promise<unknown>): Promise<string | undefined> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    return error instanceof Prisma.PrismaClientKnownRequestError ? error.code : `not a known error: ${error}`;
  }

  it("stores every time as timestamptz(3)", async () => {
    const columns = await query<{ col: string; type: string }>(
      url,
      `SELECT a.attrelid::regclass || '.' || a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname <> '_prisma_migrations'
          AND a.attnum > 0 AND NOT a.attisdropped AND format_type(a.atttypid, a.atttypmod) LIKE 'timestamp%'
        ORDER BY 1`,
    );
    expect(columns.length).toBeGreaterThanOrEqual(10);
    for (const { col, type } of columns) {
      const want =
        col === "plan_batch.last_log_dates" ? "timestamp(3) with time zone[]" : "timestamp(3) with time zone";
      expect({ col, type }).toEqual({ col, type: want });
    }
  });

  it("lastts: round-trips with millisecond precision; the (idDevice, collection) key is unique", async () => {
    const lastts = new Date("2024-03-05T06:07:08.123Z");
    // Device ids are bigint (int8), as in ddc: past int4 too.
    const row = { idDevice: 3_000_000_000n, collection: "alarm", lastts };
    await db.lastts.create({ data: row });

    const read = await db.lastts.findUniqueOrThrow({
      where: { idDevice_collection: { idDevice: row.idDevice, collection: "alarm" } },
    });
    expect(read).toEqual(row);
    expect(read.lastts.getTime() % 1000).toBe(123);
    expect(await prismaCode(db.lastts.create({ data: row }))).toBe("P2002");
    // Another collection of the same device is another bookmark.
    await db.lastts.create({ data: { ...row, collection: "cooking_logs" } });
  });

  it("metric: round-trips, upserts by (runId, collection) with increments, defaults counters to 0", async () => {
    const runId = randomUUID();
    const full = {
      runId,
      planId: null,
      collection: "alarm",
      firstDevice: 10n,
      lastDevice: 3_000_000_000n,
      devicesToQuery: 7,
      devicesProcessed: 6,
      documentsRead: 1000,
      documentsUploaded: 990,
      documentsQuarantined: 10,
      bytesUploaded: 5_000_000_000n,
      queriesRun: 12,
      computationMs: 900_000,
      errors: 1,
      createdAt: new Date("2024-01-01T00:00:00.001Z"),
      finishedAt: new Date("2024-01-01T00:15:00.002Z"),
    };
    const created = await db.metric.create({ data: full });
    expect(created).toEqual({ id: created.id, ...full });
    expect(await db.metric.findUniqueOrThrow({ where: { id: created.id } })).toEqual(created);
    expect(await prismaCode(db.metric.create({ data: { runId, collection: "alarm" } }))).toBe("P2002");

    // The worker's pattern: each window's commit adds its counters to the run's row.
    const key = { runId_collection: { runId, collection: "cooking_logs" } };
    for (const n of [1, 2]) {
      await db.metric.upsert({
        where: key,
        create: { runId, collection: "cooking_logs", documentsRead: n, bytesUploaded: n * 100 },
        update: { documentsRead: { increment: n }, bytesUploaded: { increment: n * 100 } },
      });
    }
    const summed = await db.metric.findUniqueOrThrow({ where: key });
    expect(summed).toMatchObject({
      documentsRead: 3,
      bytesUploaded: 300n,
      devicesToQuery: 0,
      errors: 0,
      firstDevice: null,
      finishedAt: null,
    });
    expect(summed.createdAt).toBeInstanceOf(Date);
  });

  it("file ledger: round-trips; a device window is unique; ids increase for the curate job's position", async () => {
    const runId = randomUUID();
    const row = (from: number) => ({
      objectKey: `alarm/idDevice=7/${from}.parquet`,
      collection: "alarm",
      idDevice: 7n,
      windowFrom: new Date(from),
      windowTo: new Date(from + 86_400_000),
      rows: 123,
      bytes: 4567n,
      runId,
    });
    const a = await db.fileLedger.create({ data: row(1_700_000_000_123) });
    const b = await db.fileLedger.create({ data: row(1_700_086_400_123) });
    expect(await db.fileLedger.findUniqueOrThrow({ where: { id: a.id } })).toEqual(a);
    expect(a).toMatchObject(row(1_700_000_000_123));
    expect(b.id).toBeGreaterThan(a.id);
    const since = await db.fileLedger.findMany({
      where: { collection: "alarm", id: { gt: a.id } },
      orderBy: { id: "asc" },
    });
    expect(since.map((r) => r.objectKey)).toEqual([b.objectKey]);
    expect(await prismaCode(db.fileLedger.create({ data: row(1_700_000_000_123) }))).toBe("P2002");
    // A pack (ADR 0023): one object, a row per device window; a window in two objects is refused.
    const pack = {
      ...row(1_700_172_800_123),
      objectKey: "alarm/packs/20231117T000000123Z-0123456789ab.parquet",
    };
    await db.fileLedger.create({ data: pack });
    await db.fileLedger.create({ data: { ...pack, idDevice: 8n } });
    expect(
      await prismaCode(db.fileLedger.create({ data: { ...pack, objectKey: "alarm/packs/x.parquet" } })),
    ).toBe("P2002");
    expect(await db.fileLedger.count({ where: { objectKey: pack.objectKey } })).toBe(2);
  });

  it("pack uploads: abandoned are the old unsettled records no ledger row names; settled ones are kept", async () => {
    const state = postgresIngestState(pool);
    const collection = `packs_${randomUUID().slice(0, 8)}`;
    const key = (n: number) => `${collection}/packs/20240101T000000000Z-00000000000${n}.parquet`;
    for (const n of [1, 2, 3]) await state.intendPack({ collection, key: key(n), runId: "r" });
    await state.intendPack({ collection: `${collection}x`, key: key(4), runId: "r" });
    // Pack 1 committed; 2 and 3 not; 3 is recent (its writer may still be at it).
    await db.fileLedger.create({
      data: {
        objectKey: key(1),
        collection,
        idDevice: 1n,
        windowFrom: new Date(0),
        windowTo: new Date(1),
        rows: 1,
        bytes: 1n,
        runId: "r",
      },
    });
    await state.intendPack({ collection, key: key(5), runId: "r" });
    await state.settlePacks([key(5)]);
    const old = new Date(Date.now() - 3_600_000);
    await db.packUpload.updateMany({
      where: { objectKey: { in: [key(1), key(2), key(4), key(5)] } },
      data: { createdAt: old },
    });
    const before = new Date(Date.now() - 60_000);
    // Not 1 (the ledger names it), 3 (recent), 4 (another collection's), 5 (settled).
    expect(await state.abandonedPacks(collection, before)).toEqual([key(2)]);
    await state.settlePacks([key(2)]);
    expect(await state.abandonedPacks(collection, before)).toEqual([]);
    const records = await db.packUpload.findMany({ where: { collection }, orderBy: { objectKey: "asc" } });
    expect(records.map((u) => [u.objectKey, u.settledAt !== null])).toEqual([
      [key(1), false],
      [key(2), true],
      [key(3), false],
      [key(5), true],
    ]);
    // Settling again keeps the first time.
    const settled = records[1]?.settledAt;
    await state.settlePacks([key(2)]);
    expect((await db.packUpload.findUniqueOrThrow({ where: { objectKey: key(2) } })).settledAt).toEqual(
      settled,
    );
  });

  it("ledger commit: a replayed window replaces its row with a new id past the curate position", async () => {
    const state = postgresIngestState(pool);
    const window = { from: new Date(1_700_000_000_000), to: new Date(1_700_086_400_000) };
    const commit = (runId: string, rows: number) =>
      state.commitWindows([
        {
          runId,
          planId: null,
          collection: "events",
          idDevice: 42,
          window,
          lastts: window.to,
          object: { key: "events/idDevice=42/1700000000000.parquet", rows, bytes: 1000 },
          quarantined: [],
          drift: new Map(),
          counters: {
            documentsRead: rows,
            documentsUploaded: rows,
            documentsQuarantined: 0,
            bytesUploaded: 1000,
            queriesRun: 1,
            computationMs: 1,
          },
        },
      ]);
    await commit(randomUUID(), 10);
    const window42 = { collection: "events", idDevice: 42, windowFrom: window.from };
    const first = await db.fileLedger.findUniqueOrThrow({
      where: { collection_idDevice_windowFrom: window42 },
    });
    await commit(randomUUID(), 12);
    const rows = await db.fileLedger.findMany({ where: { objectKey: first.objectKey } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBeGreaterThan(first.id);
    expect(rows[0]?.rows).toBe(12);
    // Extracted again into a pack (ADR 0023): the row follows the window to its new object.
    const pack = "events/packs/20231114T221320000Z-0123456789ab.parquet";
    await state.commitWindows([
      {
        runId: randomUUID(),
        planId: null,
        collection: "events",
        idDevice: 42,
        window,
        lastts: window.to,
        object: { key: pack, rows: 13, bytes: 500 },
        quarantined: [],
        drift: new Map(),
        counters: {
          documentsRead: 13,
          documentsUploaded: 13,
          documentsQuarantined: 0,
          bytesUploaded: 500,
          queriesRun: 1,
          computationMs: 1,
        },
      },
    ]);
    const moved = await db.fileLedger.findMany({ where: { collection: "events", idDevice: 42 } });
    expect(moved.map((r) => [r.objectKey, r.rows])).toEqual([[pack, 13]]);
    expect(moved[0]?.id).toBeGreaterThan(rows[0]?.id ?? Number.POSITIVE_INFINITY);
  });

  it("ledger commit: a group of windows commits every row and sums, in one statement", async () => {
    const state = postgresIngestState(pool);
    const runId = randomUUID();
    const day = 86_400_000;
    const base = 1_710_000_000_000;
    const counters = (read: number, uploaded: number, quarantined: number, bytes: number) => ({
      documentsRead: read,
      documentsUploaded: uploaded,
      documentsQuarantined: quarantined,
      bytesUploaded: bytes,
      queriesRun: 1,
      computationMs: 3,
    });
    const windowOf = (from: number) => ({ from: new Date(from), to: new Date(from + day) });
    await db.driftCount.create({
      data: {
        collection: "alarm",
        key: "firmware",
        count: 5,
        firstSeen: new Date(base),
        lastSeen: new Date(base),
      },
    });
    await state.commitWindows([
      {
        runId,
        planId: null,
        collection: "alarm",
        idDevice: 7,
        window: windowOf(base),
        lastts: new Date(base + day),
        object: { key: `alarm/idDevice=7/${base}.parquet`, rows: 3, bytes: 300 },
        quarantined: [
          { documentId: "a1", reason: "resetTS: not a date", objectKey: "quarantine/alarm/a1.json" },
        ],
        drift: new Map([
          ["firmware", 2],
          ["zone", 1],
        ]),
        counters: counters(4, 3, 1, 300),
      },
      {
        runId,
        planId: null,
        collection: "alarm",
        idDevice: 8,
        window: windowOf(base + day),
        lastts: new Date(base + 2 * day),
        object: { key: `alarm/idDevice=8/${base + day}.parquet`, rows: 2, bytes: 200 },
        quarantined: [],
        drift: new Map([["firmware", 1]]),
        counters: counters(2, 2, 0, 200),
      },
      {
        // A device with nothing before its last_log_date: bookmark only, no ledger row.
        runId,
        planId: null,
        collection: "alarm",
        idDevice: 9,
        window: null,
        lastts: new Date(base + 3 * day),
        object: null,
        quarantined: [
          { documentId: null, reason: "activeTS is missing", objectKey: "quarantine/alarm/x.json" },
        ],
        drift: new Map(),
        counters: counters(1, 0, 1, 0),
      },
    ]);
    const bookmarks = await db.lastts.findMany({
      where: { collection: "alarm", idDevice: { in: [7, 8, 9] } },
      orderBy: { idDevice: "asc" },
    });
    expect(bookmarks.map((b) => [b.idDevice, b.lastts.getTime()])).toEqual([
      [7n, base + day],
      [8n, base + 2 * day],
      [9n, base + 3 * day],
    ]);
    const ledgerRows = await db.fileLedger.findMany({ where: { runId }, orderBy: { idDevice: "asc" } });
    expect(
      ledgerRows.map((r) => [r.objectKey, r.idDevice, r.windowFrom.getTime(), r.rows, Number(r.bytes)]),
    ).toEqual([
      [`alarm/idDevice=7/${base}.parquet`, 7n, base, 3, 300],
      [`alarm/idDevice=8/${base + day}.parquet`, 8n, base + day, 2, 200],
    ]);
    const quarantined = await db.quarantine.findMany({ where: { runId }, orderBy: { objectKey: "asc" } });
    expect(quarantined.map((q) => [q.idDevice, q.documentId, q.reason])).toEqual([
      [7n, "a1", "resetTS: not a date"],
      [9n, null, "activeTS is missing"],
    ]);
    const drift = await db.driftCount.findMany({ where: { collection: "alarm" }, orderBy: { key: "asc" } });
    expect(drift.map((d) => [d.key, Number(d.count)])).toEqual([
      ["firmware", 8],
      ["zone", 1],
    ]);
    const metric = await db.metric.findUniqueOrThrow({
      where: { runId_collection: { runId, collection: "alarm" } },
    });
    expect(metric).toMatchObject({
      documentsRead: 7,
      documentsUploaded: 5,
      documentsQuarantined: 2,
      queriesRun: 3,
      computationMs: 9,
    });
    expect(Number(metric.bytesUploaded)).toBe(500);
  });

  it("ledger commit: a group that fails leaves none of its rows", async () => {
    const state = postgresIngestState(pool);
    const runId = randomUUID();
    const window = { from: new Date(1_720_000_000_000), to: new Date(1_720_086_400_000) };
    const commit = (idDevice: number) => ({
      runId,
      planId: null,
      collection: "events",
      idDevice,
      window,
      lastts: window.to,
      // The same object and device twice in one group is a bug upstream (a pack holds a device
      // once); the statement must refuse it whole.
      object: { key: "events/packs/20240703T094640000Z-0123456789ab.parquet", rows: 1, bytes: 10 },
      quarantined: [],
      drift: new Map([["extra", 1]]),
      counters: {
        documentsRead: 1,
        documentsUploaded: 1,
        documentsQuarantined: 0,
        bytesUploaded: 10,
        queriesRun: 1,
        computationMs: 1,
      },
    });
    await expect(state.commitWindows([commit(501), commit(502), commit(502)])).rejects.toThrow();
    expect(await db.lastts.count({ where: { idDevice: { in: [501, 502] } } })).toBe(0);
    expect(await db.fileLedger.count({ where: { runId } })).toBe(0);
    expect(await db.metric.count({ where: { runId } })).toBe(0);
    expect(await db.driftCount.count({ where: { collection: "events", key: "extra" } })).toBe(0);
  });

  it("ledger orphans: quarantine rows without a device and the run's counters, in one statement", async () => {
    const state = postgresIngestState(pool);
    const runId = randomUUID();
    const collection = `orphans_${randomUUID().slice(0, 8)}`;
    const key = (documentId: string | null) => `_quarantine/${collection}/no-device/${documentId}.json`;
    expect(await state.quarantinedKeys([key("o1"), key("o2")])).toEqual(new Set());
    const orphan = (documentId: string | null) => ({
      documentId,
      reason: `${"x".repeat(5000)} ${documentId}`,
      objectKey: `_quarantine/${collection}/no-device/${documentId}.json`,
    });
    await state.commitOrphans({
      runId,
      planId: null,
      collection,
      quarantined: [orphan("o1"), orphan(null)],
    });
    await state.commitOrphans({ runId, planId: null, collection, quarantined: [orphan("o2")] });
    await state.commitOrphans({ runId, planId: null, collection, quarantined: [] });

    const rows = await db.quarantine.findMany({ where: { runId }, orderBy: { id: "asc" } });
    expect(rows.map((r) => [r.collection, r.idDevice, r.documentId, r.reason.length])).toEqual([
      [collection, null, "o1", 4000],
      [collection, null, null, 4000],
      [collection, null, "o2", 4000],
    ]);
    expect(await state.quarantinedKeys([key("o1"), key("o2"), key("o3")])).toEqual(
      new Set([key("o1"), key("o2")]),
    );
    expect(
      await db.metric.findUniqueOrThrow({ where: { runId_collection: { runId, collection } } }),
    ).toMatchObject({ documentsRead: 3, documentsQuarantined: 3, documentsUploaded: 0, planId: null });
  });

  it("ledger: has bookmarks once any device of any collection has one", async () => {
    const empty = await freshDatabase();
    await applyMigrations(empty);
    const emptyPool = createSupportPool(empty);
    try {
      expect(await postgresIngestState(emptyPool).hasBookmarks()).toBe(false);
      await emptyPool.query("INSERT INTO lastts (id_device, collection, lastts) VALUES (1, 'alarm', now())");
      expect(await postgresIngestState(emptyPool).hasBookmarks()).toBe(true);
    } finally {
      await emptyPool.end();
    }
  });

  it("plan store: saves a plan whole, loads each batch in order, sets the outcome", async () => {
    const plans = postgresPlanStore(pool);
    const at = (ms: number) => new Date(1_700_000_000_000 + ms);
    const batches = [
      { collection: "events", batch: 0, devices: [3, 1].map((d) => ({ idDevice: d, lastLogDate: at(d) })) },
      { collection: "events", batch: 1, devices: [{ idDevice: 7, lastLogDate: at(7) }] },
      { collection: "alarm", batch: 0, devices: [] },
    ];
    const planId = await plans.save("bulk", batches);
    expect(await db.plan.findUniqueOrThrow({ where: { id: planId } })).toMatchObject({
      mode: "bulk",
      status: "planned",
    });
    for (const b of batches) {
      expect(await plans.load({ planId, collection: b.collection, batch: b.batch })).toEqual(b.devices);
    }
    await expect(plans.load({ planId, collection: "events", batch: 2 })).rejects.toThrow(
      PlanBatchNotFoundError,
    );

    await plans.setStatus(planId, "succeeded");
    expect((await db.plan.findUniqueOrThrow({ where: { id: planId } })).status).toBe("succeeded");
    await expect(plans.setStatus(randomUUID(), "failed")).rejects.toThrow(PlanNotFoundError);

    // A plan of a bulk load's size: many batches of many devices, in one statement.
    const big = Array.from({ length: 300 }, (_, batch) => ({
      collection: "variable_logs",
      batch,
      devices: Array.from({ length: 300 }, (_, i) => ({ idDevice: batch * 300 + i, lastLogDate: at(i) })),
    }));
    const bigId = await plans.save("bulk", big);
    expect(await db.planBatch.count({ where: { planId: bigId } })).toBe(300);
    expect(await plans.load({ planId: bigId, collection: "variable_logs", batch: 299 })).toEqual(
      big[299]?.devices,
    );
  });

  it("plan and batches: round-trip, unique (planId, collection, batchIndex), cascade on delete", async () => {
    const plan = await db.plan.create({ data: { mode: "operations" } });
    expect(plan).toMatchObject({ mode: "operations", status: "planned" });
    expect(plan.id).toMatch(/^[0-9a-f-]{36}$/);

    const batch = {
      planId: plan.id,
      collection: "variable_logs",
      batchIndex: 0,
      devices: [3n, 1n, 2n],
      lastLogDates: [new Date(1_700_000_000_001), new Date(1_700_000_000_002), new Date(1_700_000_000_003)],
    };
    await db.planBatch.create({ data: batch });
    await db.planBatch.create({ data: { ...batch, batchIndex: 1, devices: [], lastLogDates: [] } });
    const read = await db.planBatch.findUniqueOrThrow({
      where: {
        planId_collection_batchIndex: { planId: plan.id, collection: "variable_logs", batchIndex: 0 },
      },
    });
    expect(read).toEqual(batch);
    expect(await prismaCode(db.planBatch.create({ data: batch }))).toBe("P2002");

    const metric = await db.metric.create({
      data: { runId: randomUUID(), planId: plan.id, collection: "alarm" },
    });
    await db.plan.update({ where: { id: plan.id }, data: { status: "succeeded" } });
    expect(
      await db.plan.findUniqueOrThrow({ where: { id: plan.id }, include: { batches: true } }),
    ).toMatchObject({
      status: "succeeded",
      batches: [{ batchIndex: 0 }, { batchIndex: 1 }],
    });

    await db.plan.delete({ where: { id: plan.id } });
    expect(await db.planBatch.count({ where: { planId: plan.id } })).toBe(0);
    // Metrics outlive their plan: the run happened even if the plan is cleaned up.
    expect(await db.metric.findUniqueOrThrow({ where: { id: metric.id } })).toMatchObject({ planId: null });
  });

  it("drift counts: round-trip beyond 2^31, unique per (collection, key), upsert increments", async () => {
    const row = {
      collection: "cooking_logs",
      key: `extra_${randomUUID().slice(0, 8)}`,
      count: 3_000_000_000n,
      firstSeen: new Date("2024-01-01T00:00:00.999Z"),
      lastSeen: new Date("2024-02-01T00:00:00.001Z"),
    };
    await db.driftCount.create({ data: row });
    const where = { collection_key: { collection: row.collection, key: row.key } };
    expect(await db.driftCount.findUniqueOrThrow({ where })).toEqual(row);
    expect(await prismaCode(db.driftCount.create({ data: row }))).toBe("P2002");

    const seen = new Date("2024-03-01T00:00:00.500Z");
    await db.driftCount.upsert({
      where,
      create: { ...row, count: 5, firstSeen: seen, lastSeen: seen },
      update: { count: { increment: 5 }, lastSeen: seen },
    });
    expect(await db.driftCount.findUniqueOrThrow({ where })).toEqual({
      ...row,
      count: 3_000_000_005n,
      lastSeen: seen,
    });
  });

  it("quarantine: round-trips, with and without device and document id; one row per object key", async () => {
    const base = {
      runId: randomUUID(),
      collection: "alarm",
      reason: "activeTS: expected a date",
    };
    const key = (name: string) => `quarantine/alarm/${base.runId}/${name}.json`;
    const full = await db.quarantine.create({
      data: { ...base, objectKey: key("x"), idDevice: 9n, documentId: "65f0c0ffee" },
    });
    const bare = await db.quarantine.create({
      data: { ...base, objectKey: key("y"), idDevice: null, documentId: null },
    });
    expect(await prismaCode(db.quarantine.create({ data: { ...base, objectKey: key("x") } }))).toBe("P2002");
    expect(await db.quarantine.findMany({ where: { runId: base.runId }, orderBy: { id: "asc" } })).toEqual([
      full,
      bare,
    ]);
    expect(full).toMatchObject({ ...base, idDevice: 9n, documentId: "65f0c0ffee" });
    expect(bare).toMatchObject({ idDevice: null, documentId: null });
  });

  it("an interactive transaction that throws leaves no bookmark, metric or ledger row", async () => {
    const runId = randomUUID();
    const idDevice = 1_234_567;
    const failure = new Error("upload check failed");

    const outcome = await db
      .$transaction(async (tx) => {
        await tx.lastts.create({ data: { idDevice, collection: "alarm", lastts: new Date() } });
        await tx.metric.create({ data: { runId, collection: "alarm", documentsUploaded: 5 } });
        await tx.fileLedger.create({
          data: {
            objectKey: `alarm/idDevice=${idDevice}/${runId}.parquet`,
            collection: "alarm",
            idDevice,
            windowFrom: new Date(0),
            windowTo: new Date(1),
            rows: 5,
            bytes: 10,
            runId,
          },
        });
        // Visible inside the transaction...
        expect(await tx.fileLedger.count({ where: { runId } })).toBe(1);
        throw failure;
      })
      .catch((e: unknown) => e);

    expect(outcome).toBe(failure);
    // ...and gone after it.
    expect(await db.lastts.count({ where: { idDevice } })).toBe(0);
    expect(await db.metric.count({ where: { runId } })).toBe(0);
    expect(await db.fileLedger.count({ where: { runId } })).toBe(0);
  });
});
