/**
 * `snapshot` sub-program: load, advance and inspect the synthetic source snapshot (docs/design.md §7).
 * Mounted by `local/cli/main.ts`; connection settings come from the environment
 * (`DDC_DATABASE_URL`, `MONGODB_URL`, `MONGODB_DATABASE`, see `scripts/stack.env`).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import pino from "pino";
import {
  advanceSnapshot,
  formatSummary,
  loadSnapshot,
  type OpenTargets,
  openTargets,
  readSnapshotConnections,
  SCALES,
  type ScaleName,
  SOURCE_COLLECTIONS,
  type SourceCollection,
  showSnapshot,
  snapshotChecksum,
} from "../snapshot/index.js";
import { formatCounts } from "../snapshot/show.js";
import { iso, parseInstant } from "../snapshot/time.js";

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

function instant(value: string): number {
  try {
    return parseInstant(value);
  } catch {
    throw new InvalidArgumentError("expected an ISO date such as 2024-06-01");
  }
}

function collectionList(value: string): SourceCollection[] {
  const names = value.split(",").map((c) => c.trim());
  const unknown = names.filter((c) => !(SOURCE_COLLECTIONS as readonly string[]).includes(c));
  if (unknown.length) {
    throw new InvalidArgumentError(
      `unknown collection(s) ${unknown.join(", ")}; known: ${SOURCE_COLLECTIONS.join(", ")}`,
    );
  }
  return names as SourceCollection[];
}

/** Progress goes to stderr as JSON lines; stdout carries only the result. */
function logger() {
  return pino({ name: "snapshot", level: process.env.LOG_LEVEL ?? "info" }, pino.destination(2));
}

/** `--production`: the databases that stand for production in the local cutover example. */
let databases: "snapshot" | "production" = "snapshot";

async function withTargets<T>(run: (targets: OpenTargets) => Promise<T>): Promise<T> {
  const targets = await openTargets(readSnapshotConnections(process.env, databases));
  try {
    return await run(targets);
  } finally {
    await targets.close();
  }
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : text()}\n`);
}

/** The `snapshot` command with its `load`, `advance` and `show` sub-commands. */
export function snapshotCommand(): Command {
  const snapshot = new Command("snapshot")
    .description("synthetic ddc (PostgreSQL) + IoT (MongoDB) snapshot: deterministic, scalable, advanceable")
    .option(
      "--production",
      "act on the databases that stand for production in the local cutover example (PRODUCTION_* settings)",
    )
    .hook("preAction", (command) => {
      databases = command.opts().production ? "production" : "snapshot";
    });

  snapshot
    .command("load")
    .description("generate and load a snapshot (does nothing if the same one is already loaded)")
    .addOption(
      new Option("--scale <scale>", "named size: devices and days")
        .choices(Object.keys(SCALES))
        .default("default"),
    )
    .option("--devices <n>", "number of devices (overrides the scale)", integer(1))
    .option("--days <d>", "days of data before the end date (overrides the scale)", integer(1))
    .option("--seed <s>", "random seed", integer(0))
    .option("--end <date>", "end of the timeline, UTC (default 2024-06-01)", instant)
    .option("--reset", "drop and recreate the tables and collections first", false)
    .option("--concurrency <n>", "MongoDB writers at once", integer(1))
    .option(
      "--collections <names>",
      "comma-separated MongoDB collections to load (default: all; ddc is always loaded whole; " +
        "advance then adds to these only)",
      collectionList,
    )
    .option("--json", "print the report as JSON", false)
    .action(async (opts) => {
      const report = await withTargets((targets) =>
        loadSnapshot(targets, {
          collections: opts.collections,
          scale: opts.scale as ScaleName,
          devices: opts.devices,
          days: opts.days,
          seed: opts.seed,
          end: opts.end,
          reset: opts.reset,
          concurrency: opts.concurrency,
          log: logger(),
        }),
      );
      print(opts.json, report, () => {
        const c = report.config;
        const only =
          c.collections.length < SOURCE_COLLECTIONS.length ? `, ${c.collections.join(",")} only` : "";
        const what = `seed ${c.seed}, ${c.devices} devices, ${c.days} days${only}, clock ${iso(report.clock.getTime())}`;
        if (!report.documents || !report.rows) {
          return `already loaded: ${what} (snapshot show counts it; load --reset reloads)`;
        }
        const docs = Object.values(report.documents).reduce((a, b) => a + b, 0);
        const rows = Object.values(report.rows).reduce((a, b) => a + b, 0);
        return [
          `loaded: ${what}`,
          formatCounts("collection", [
            ...Object.entries(report.documents).filter(([name]) =>
              c.collections.includes(name as SourceCollection),
            ),
            ["total", docs],
          ]),
          formatCounts("ddc table", [...Object.entries(report.rows), ["total", rows]]),
          `${docs.toLocaleString("en-US")} documents and ${rows.toLocaleString("en-US")} ddc rows in ` +
            `${(report.durationMs / 1000).toFixed(1)} s`,
        ].join("\n\n");
      });
    });

  snapshot
    .command("advance")
    .description("move the snapshot clock forward: new documents, cleared alarms, device and recipe changes")
    .option("--days <d>", "days to advance", integer(1), 1)
    .option("--concurrency <n>", "MongoDB writers at once", integer(1))
    .option("--json", "print the report as JSON", false)
    .action(async (opts) => {
      const report = await withTargets((targets) =>
        advanceSnapshot(targets, { days: opts.days, concurrency: opts.concurrency, log: logger() }),
      );
      print(opts.json, report, () => {
        const docs = Object.values(report.documents).reduce((a, b) => a + b, 0);
        return [
          `clock ${iso(report.from.getTime())} -> ${iso(report.to.getTime())}`,
          formatCounts("new documents", [...Object.entries(report.documents), ["total", docs]]),
          formatCounts("changes", [
            ["alarms reset", report.alarmsReset],
            ["device updates", report.deviceChanges.length],
            ["last_log_date moved", report.marksMoved],
            ["recipes replaced", report.recipesReplaced],
            ["settings updated", report.settingsUpdated],
            ["device_recipe_history rows", report.history.device_recipe_history],
            ["device_ip_info_history rows", report.history.device_ip_info_history],
          ]),
        ].join("\n\n");
      });
    });

  snapshot
    .command("show")
    .description("print the snapshot clock, rows per ddc table and documents per collection")
    .option("--checksum", "also print a content checksum of both databases", false)
    .option("--json", "print as JSON", false)
    .action(async (opts) => {
      const { summary, checksum } = await withTargets(async (targets) => ({
        summary: await showSnapshot(targets),
        checksum: opts.checksum ? await snapshotChecksum(targets) : undefined,
      }));
      print(opts.json, { ...summary, checksum }, () =>
        checksum ? `${formatSummary(summary)}\n\nchecksum   ${checksum.total}` : formatSummary(summary),
      );
    });

  return snapshot;
}
