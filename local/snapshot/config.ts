/**
 * Connection settings of the snapshot databases, read once from the environment with zod.
 * Local values come from `scripts/stack.env`; the names are the ones the rest of the project uses.
 */
import { parseEnv } from "../../pipeline/config.js";
import { LocalConfigSchema } from "../config.js";

const EnvSchema = LocalConfigSchema.pick({
  DDC_DATABASE_URL: true,
  MONGODB_URL: true,
  MONGODB_DATABASE: true,
});

/** Where the snapshot lives: the `ddc` PostgreSQL database and the MongoDB (FerretDB) database. */
export interface SnapshotConnections {
  readonly ddcDatabaseUrl: string;
  readonly mongodbUrl: string;
  readonly mongodbDatabase: string;
}

/**
 * Parse the connection settings from `env`.
 * @throws {ConfigError} naming every missing or malformed key.
 */
export function readSnapshotConnections(
  env: NodeJS.ProcessEnv = process.env,
  databases: "snapshot" | "production" = "snapshot",
): SnapshotConnections {
  // The local cutover example's production is a snapshot of its own, loaded and advanced the same way.
  const source =
    databases === "production"
      ? {
          DDC_DATABASE_URL: env.PRODUCTION_DDC_DATABASE_URL,
          MONGODB_URL: env.PRODUCTION_MONGODB_URL ?? env.MONGODB_URL,
          MONGODB_DATABASE: env.PRODUCTION_MONGODB_DATABASE,
        }
      : env;
  const env_ = parseEnv(EnvSchema, `${databases} connection settings`, source);
  return Object.freeze({
    ddcDatabaseUrl: env_.DDC_DATABASE_URL,
    mongodbUrl: env_.MONGODB_URL,
    mongodbDatabase: env_.MONGODB_DATABASE,
  });
}
