/**
 * The support database's typed client: the Prisma client generated from prisma/schema.prisma
 * (scripts/prisma-generate.sh), running on node-postgres through `@prisma/adapter-pg`. Prisma 7
 * needs no query engine binary this way: queries are compiled in-process (WASM) and sent by `pg`.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.js";

/**
 * Connections per client. A Lambda container serves one invocation at a time and the worker runs
 * about 5 devices concurrently, each committing one short transaction per window; RDS connection
 * slots are shared by every concurrent worker, so each keeps few.
 */
export const SUPPORT_POOL_MAX = 5;

/**
 * Fail a connection attempt instead of waiting forever (node-postgres' default is no timeout),
 * but only after a paused Aurora Serverless v2 support database has had time to resume: the first
 * connection of a run waits for it, about 15 s, longer after a day paused (ADR 0021).
 */
export const SUPPORT_CONNECT_TIMEOUT_MS = 60_000;

/** Close idle connections soon: a frozen Lambda container should not pin RDS slots for long. */
export const SUPPORT_IDLE_TIMEOUT_MS = 10_000;

export type SupportClient = PrismaClient;

export interface SupportClientOptions {
  /** Pool size; defaults to {@link SUPPORT_POOL_MAX}. */
  readonly max?: number;
}

/**
 * A Prisma client on its own small `pg` pool. Call `$disconnect()` when done (ends the pool).
 * Times are written and read as UTC instants (timestamptz), independent of the session time zone.
 */
export function createSupportClient(databaseUrl: string, options: SupportClientOptions = {}): SupportClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.max ?? SUPPORT_POOL_MAX,
    connectionTimeoutMillis: SUPPORT_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: SUPPORT_IDLE_TIMEOUT_MS,
    application_name: "lakehouse-support",
  });
  return new PrismaClient({ adapter });
}
