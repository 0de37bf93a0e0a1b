/**
 * The support database over plain node-postgres, for the worker's hot path. The worker needs
 * three statements (bookmarks, a group commit, the run's close) and a plan batch; the Prisma
 * client would cost it a WebAssembly query compiler of about 50 MiB resident before the first
 * query (measured: RSS 93 → 145 MiB on `$queryRawUnsafe("SELECT 1")`), against the worker's
 * 256 MB memory goal. The schema stays Prisma's (prisma/schema.prisma and its migrations); the
 * statements are tested against it.
 */
import pg from "pg";
import {
  SUPPORT_CONNECT_TIMEOUT_MS,
  SUPPORT_IDLE_TIMEOUT_MS,
  SUPPORT_POOL_MAX,
  type SupportClient,
  type SupportClientOptions,
} from "./client.js";

/** What the SQL modules run statements on: a `pg.Pool`, or a Prisma client through {@link prismaRunner}. */
export interface SqlRunner {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    values?: readonly unknown[],
  ): Promise<{ rows: R[] }>;
}

/**
 * No statement of the worker runs longer, a group commit waiting on another worker's drift rows
 * included. The curate job relies on it: it reads ledger ids only once their rows are older
 * than its lag (`LEDGER_LAG_SECONDS`, pipeline/schema/job-tables.ts, carried to the job by the
 * job tables, which type this timeout too), so a commit still running past that could have its
 * lower id skipped.
 */
export const SUPPORT_STATEMENT_TIMEOUT_MS = 20_000;

export function createSupportPool(databaseUrl: string, options: SupportClientOptions = {}): pg.Pool {
  return new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? SUPPORT_POOL_MAX,
    connectionTimeoutMillis: SUPPORT_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: SUPPORT_IDLE_TIMEOUT_MS,
    statement_timeout: SUPPORT_STATEMENT_TIMEOUT_MS,
    application_name: "lakehouse-worker",
  });
}

/** The same statements through a Prisma client, where one is open already (plan step, tools). */
export function prismaRunner(db: SupportClient): SqlRunner {
  return {
    async query<R extends pg.QueryResultRow>(sql: string, values: readonly unknown[] = []) {
      return { rows: await db.$queryRawUnsafe<R[]>(sql, ...values) };
    },
  };
}
