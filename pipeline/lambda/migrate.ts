/**
 * Lambda entry of the support database's migrations, invoked once per deployment whose migration
 * files or user definition changed (infra/migrations.ts). A thin edge around
 * pipeline/support/migrate.ts and provision-users.ts: read the RDS-managed secret (username,
 * password) with host, port and name from the environment, apply the SQL files bundled next to
 * this file, then provision each component's user (its role, grants and password, written to the
 * component's secret named in SUPPORT_USER_SECRETS), and say what was done.
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
import { provisionSupportUsers, type SupportUserReport } from "../support/provision-users.js";
import { SupportUserSecretsJsonSchema } from "../support/users.js";

/** The migrate function's environment, set by infra/migrations.ts. */
export const MigrateEnvSchema = z.object({
  SUPPORT_SECRET_ID: z.string({ error: "is not set" }).min(1),
  SUPPORT_DB_HOST: z.string({ error: "is not set" }).min(1),
  SUPPORT_DB_PORT: z.string({ error: "is not set" }).min(1),
  SUPPORT_DB_NAME: z.string({ error: "is not set" }).min(1),
  /** JSON `{"plan": id, "worker": id, "summarize": id, "curate": id}`: each component's secret. */
  SUPPORT_USER_SECRETS: SupportUserSecretsJsonSchema,
});

/** Folder of the bundled migrations (infra/bundle.ts copies prisma/migrations there). */
const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "migrations");

export interface MigrateResult {
  readonly applied: readonly string[];
  /** One per component: what provisioning changed (`changed: false` when nothing). */
  readonly users: readonly SupportUserReport[];
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
    // After the migrations: the grants name their tables, which a migration may have just created.
    const users = await provisionSupportUsers({
      connection: secret,
      secretIds: env.SUPPORT_USER_SECRETS,
      secrets,
      log,
    });
    return { applied: applied.map((m) => m.name), users };
  } finally {
    secrets.destroy();
  }
}
