/**
 * Lambda entry of the support database's migrations, invoked once per deployment whose migration
 * files changed (infra/migrations.ts). A thin edge around pipeline/support/migrate.ts: read the
 * RDS-managed secret (username, password) with host, port and name from the environment, apply
 * the SQL files bundled next to this file, and say what was applied.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import pino from "pino";
import { z } from "zod";
import { parseEnv } from "../config.js";
import { connectionUrl } from "../connections/secret.js";
import { readConnectionSecret } from "../connections/secrets-manager.js";
import { applyMigrations } from "../support/migrate.js";

const MigrateEnvSchema = z.object({
  SUPPORT_SECRET_ID: z.string({ error: "is not set" }).min(1),
  SUPPORT_DB_HOST: z.string({ error: "is not set" }).min(1),
  SUPPORT_DB_PORT: z.string({ error: "is not set" }).min(1),
  SUPPORT_DB_NAME: z.string({ error: "is not set" }).min(1),
});

/** Folder of the bundled migrations (infra/bundle.ts copies prisma/migrations there). */
const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "migrations");

export interface MigrateResult {
  readonly applied: readonly string[];
}

export async function handler(): Promise<MigrateResult> {
  const env = parseEnv(
    MigrateEnvSchema,
    "migrate function configuration",
    process.env,
    "set by infra/migrations.ts",
  );
  const log = pino({ name: "migrate", level: process.env.LOG_LEVEL ?? "info" });
  const secrets = new SecretsManagerClient({});
  try {
    const secret = await readConnectionSecret(secrets, env.SUPPORT_SECRET_ID, {
      engine: "postgres",
      host: env.SUPPORT_DB_HOST,
      port: env.SUPPORT_DB_PORT,
      dbname: env.SUPPORT_DB_NAME,
      // RDS enforces TLS (rds.force_ssl); the runtime's RDS CA bundle is loaded through
      // NODE_EXTRA_CA_CERTS, so the certificate is verified, host name included.
      options: { sslmode: "verify-full" },
    });
    const applied = await applyMigrations(connectionUrl(secret), { dir: MIGRATIONS_DIR, log });
    log.info({ applied: applied.map((m) => m.name) }, "support database migrated");
    return { applied: applied.map((m) => m.name) };
  } finally {
    secrets.destroy();
  }
}
