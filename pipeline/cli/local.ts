/**
 * `local`: the main job on a machine without a cloud account (`npm start`). Today it loads the
 * default synthetic snapshot into the local stack (once; later runs keep what is there), prints
 * what the sources hold and writes the Glue jobs' table list. Ingestion, curation and the Alarms
 * report join this run as their issues land.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import pino from "pino";
import { loadLocalConfig } from "../config.js";
import { collections, jobTables, tables } from "../schema/index.js";
import {
  formatSummary,
  loadSnapshot,
  openTargets,
  readSnapshotConnections,
  showSnapshot,
} from "../snapshot/index.js";
import { iso } from "../snapshot/time.js";
import { LOCAL_LAKE_DIR, localIngest, succeeded } from "./ingest.js";

export function localCommand(): Command {
  return new Command("local")
    .description("run the pipeline locally against the local stack (npm start)")
    .action(async () => {
      const config = loadLocalConfig();
      const log = pino({ name: "local", level: process.env.LOG_LEVEL ?? "info" }, pino.destination(2));
      console.log(
        `sources: ddc ${redact(config.DDC_DATABASE_URL)} · MongoDB ${config.MONGODB_URL}${config.MONGODB_DATABASE}`,
      );

      const targets = await openTargets(readSnapshotConnections());
      try {
        const report = await loadSnapshot(targets, { log });
        const c = report.config;
        console.log(
          report.status === "loaded"
            ? `snapshot loaded in ${(report.durationMs / 1000).toFixed(1)} s: seed ${c.seed}, ${c.devices} devices, ${c.days} days`
            : `snapshot already loaded (seed ${c.seed}, ${c.devices} devices, clock ${iso(report.clock.getTime())}); ` +
                "npm run snapshot -- load --reset reloads it, advance adds days",
        );
        console.log(`\n${formatSummary(await showSnapshot(targets))}`);
      } finally {
        await targets.close();
      }
      const ingestion = await localIngest({ rawDir: join(LOCAL_LAKE_DIR, "raw") });
      if (!succeeded(ingestion)) process.exitCode = 1;

      await mkdir(LOCAL_LAKE_DIR, { recursive: true });
      const tablesFile = join(LOCAL_LAKE_DIR, "job-tables.json");
      await writeFile(tablesFile, `${JSON.stringify(jobTables(), null, 2)}\n`);
      console.log(
        `\nlake tables defined by the registry: ${collections.length} in mongodb, ${tables.length} in postgres ` +
          `(npm run registry -- list); Glue job table list written to ${tablesFile}`,
      );
      console.log(
        "not yet in the local run: Glue jobs (postgres_extract, mongodb_curate, analytics), Alarms report",
      );
    });
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}
