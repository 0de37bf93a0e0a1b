/**
 * Apply the support database's pending migrations: `tsx pipeline/support/migrate-cli.ts`
 * (run by the stack start). Reads `SUPPORT_DATABASE_URL`; progress goes to stderr as JSON lines,
 * stdout gets one line naming what was applied. Exit status 1 on a known failure.
 */
import pino from "pino";
import { LocalConfigSchema, parseEnv } from "../config.js";
import { PipelineError } from "../errors.js";
import { applyMigrations } from "./migrate.js";

try {
  const config = parseEnv(
    LocalConfigSchema.pick({ SUPPORT_DATABASE_URL: true }),
    "support database migrations",
  );
  const log = pino({ name: "migrate", level: process.env.LOG_LEVEL ?? "info" }, pino.destination(2));
  const applied = await applyMigrations(config.SUPPORT_DATABASE_URL, { log });
  console.log(
    applied.length === 0
      ? "support database: up to date"
      : `support database: applied ${applied.map((m) => m.name).join(", ")}`,
  );
} catch (error) {
  // Known failures print one clear line; anything else keeps its stack for the bug report.
  if (error instanceof PipelineError) {
    console.error(`${error.name}: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
