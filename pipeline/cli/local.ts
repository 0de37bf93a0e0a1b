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
import { runIngestPass } from "../ingest/run.js";
import { loadIngestSettings } from "../ingest/settings.js";
import type { WorkerResult } from "../ingest/worker.js";
import { LocalObjectStore } from "../lake/local-store.js";
import { collections, jobTables, tables } from "../schema/index.js";
import {
  formatSummary,
  loadSnapshot,
  openTargets,
  readSnapshotConnections,
  showSnapshot,
} from "../snapshot/index.js";
import { formatTable } from "../snapshot/show.js";
import { iso } from "../snapshot/time.js";
import { createSupportClient } from "../support/client.js";
import { prismaIngestLedger } from "../support/ingest-ledger.js";

/** Where local runs keep their lake artefacts (git-ignored). */
export const LOCAL_LAKE_DIR = ".local/lake";

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
        await ingest(targets, config.SUPPORT_DATABASE_URL, log);
      } finally {
        await targets.close();
      }

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

/** MongoDB → raw into the local lake folder, bookmarks and ledger in the support database. */
async function ingest(
  targets: Awaited<ReturnType<typeof openTargets>>,
  supportUrl: string,
  log: pino.Logger,
) {
  const support = createSupportClient(supportUrl);
  const store = new LocalObjectStore(join(LOCAL_LAKE_DIR, "raw"));
  const started = performance.now();
  try {
    const ledger = prismaIngestLedger(support);
    const first = (await support.lastts.count()) === 0;
    console.log(`\ningesting MongoDB → raw (${first ? "bulk load" : "incremental"}) into ${store.location}`);
    const report = await runIngestPass(
      { ddc: targets.pg, source: targets.mongo, store, ledger, log },
      {
        runId: `local-${new Date().toISOString()}`,
        mode: first ? "bulk" : "operations",
        settings: loadIngestSettings(),
        onBatch: (r, done, total) => {
          if ("error" in r) console.log(`  [${done}/${total}] ${r.collection}: FAILED ${String(r.error)}`);
        },
      },
    );
    const byCollection = new Map<string, WorkerResult[]>();
    for (const r of report.results)
      byCollection.set(r.collection, [...(byCollection.get(r.collection) ?? []), r]);
    const sum = (rs: WorkerResult[], k: keyof WorkerResult) => rs.reduce((a, r) => a + Number(r[k]), 0);
    const lines = [...byCollection].map(
      ([c, rs]) =>
        [
          c,
          `${sum(rs, "devicesProcessed")} devices, ${sum(rs, "documentsRead")} read, ${sum(rs, "rowsWritten")} rows, ` +
            `${sum(rs, "documentsQuarantined")} quarantined, ${(sum(rs, "bytesUploaded") / 1e6).toFixed(2)} MB`,
        ] as const,
    );
    console.log(lines.length ? formatTable("collection", lines) : "nothing new since the last run");
    console.log(
      `${report.batches} batches in ${((performance.now() - started) / 1000).toFixed(1)} s, ${report.failures.length} failed`,
    );
    if (report.failures.length) process.exitCode = 1;
  } finally {
    await support.$disconnect();
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}
