/** `migrate`: apply the support database's pending migrations (run by every bootstrap). */
import { Command } from "commander";
import pino from "pino";
import { parseEnv } from "../../pipeline/config.js";
import { applyMigrations } from "../../pipeline/support/migrate.js";
import { LocalConfigSchema } from "../config.js";

export function migrateCommand(): Command {
  return new Command("migrate")
    .description("apply pending support-database migrations, as `prisma migrate deploy` would")
    .action(async () => {
      const config = parseEnv(
        LocalConfigSchema.pick({ SUPPORT_DATABASE_URL: true }),
        "support database migrations",
      );
      // Progress goes to stderr as JSON lines; stdout gets one line naming what was applied.
      const log = pino({ name: "migrate", level: process.env.LOG_LEVEL ?? "info" }, pino.destination(2));
      const applied = await applyMigrations(config.SUPPORT_DATABASE_URL, { log });
      console.log(
        applied.length === 0
          ? "support database: up to date"
          : `support database: applied ${applied.map((m) => m.name).join(", ")}`,
      );
    });
}
