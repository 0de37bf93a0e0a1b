/**
 * `ingest`: one MongoDB → raw pass against the local stack (plan, every batch through the worker,
 * a summary). `npm start` runs the same pass; this command lets a test or a user run it alone,
 * into any folder, with the databases the environment names.
 */
import { join } from "node:path";
import { Command, Option } from "commander";
import pino from "pino";
import { loadLocalConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { runIngestPass } from "../ingest/run.js";
import { loadIngestSettings } from "../ingest/settings.js";
import type { WorkerResult } from "../ingest/worker.js";
import { LocalObjectStore } from "../lake/local-store.js";
import { collections } from "../schema/registry.js";
import { openTargets, readSnapshotConnections } from "../snapshot/index.js";
import { formatTable } from "../snapshot/show.js";
import { createSupportClient } from "../support/client.js";
import { prismaIngestLedger } from "../support/ingest-ledger.js";

/** Where local runs keep their lake artefacts (git-ignored). */
export const LOCAL_LAKE_DIR = ".local/lake";

export interface LocalIngestOptions {
  readonly rawDir: string;
  readonly collections?: readonly string[];
  readonly mode?: "auto" | "bulk" | "operations";
}

export function ingestCommand(): Command {
  return new Command("ingest")
    .description("ingest MongoDB → raw Parquet once (plan, workers, summary) into a local folder")
    .option("--raw-dir <dir>", "raw layer folder", join(LOCAL_LAKE_DIR, "raw"))
    .option("--collections <names>", "comma-separated collections (default: all)")
    .addOption(
      new Option("--mode <mode>", "batch sizing; auto = bulk on the first run")
        .choices(["auto", "bulk", "operations"])
        .default("auto"),
    )
    .action(async (opts: { rawDir: string; collections?: string; mode: LocalIngestOptions["mode"] }) => {
      const names = opts.collections?.split(",").map((s) => s.trim());
      const unknown = names?.filter((n) => !collections.some((c) => c.name === n)) ?? [];
      if (unknown.length) throw new ConfigError(`--collections: unknown collection(s) ${unknown.join(", ")}`);
      const failed = await runLocalIngest({ rawDir: opts.rawDir, collections: names, mode: opts.mode });
      if (failed) process.exitCode = 1;
    });
}

/** Runs one pass and prints a per-collection table; returns the number of failed batches. */
export async function runLocalIngest(options: LocalIngestOptions): Promise<number> {
  const config = loadLocalConfig();
  const log = pino({ name: "ingest", level: process.env.LOG_LEVEL ?? "info" }, pino.destination(2));
  const targets = await openTargets(readSnapshotConnections());
  const support = createSupportClient(config.SUPPORT_DATABASE_URL);
  const store = new LocalObjectStore(options.rawDir);
  const started = performance.now();
  try {
    const ledger = prismaIngestLedger(support);
    const first = (await support.lastts.count()) === 0;
    const mode = options.mode === "auto" || !options.mode ? (first ? "bulk" : "operations") : options.mode;
    console.log(`\ningesting MongoDB → raw (${mode}) into ${store.location}`);
    const report = await runIngestPass(
      { ddc: targets.pg, source: targets.mongo, store, ledger, log },
      {
        runId: `local-${new Date().toISOString()}`,
        mode,
        settings: loadIngestSettings(),
        collections: options.collections,
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
    return report.failures.length;
  } finally {
    await support.$disconnect();
    await targets.close();
  }
}
