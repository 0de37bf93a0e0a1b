/**
 * The `lakehouse` program: its commands, `--version`, `--verbose`, and the servers' preflight
 * that runs before any command's action (issue 16), from the table of what each command needs.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { costCommand } from "./cost.js";
import { cutoverCommand, LOCAL_STACK } from "./cutover.js";
import { ingestCommand } from "./ingest.js";
import { jobCommands } from "./jobs.js";
import { localCommand } from "./local.js";
import { migrateCommand } from "./migrate.js";
import { reconcileCommand } from "./reconcile.js";
import { registryCommand } from "./registry.js";
import { ALL_SERVERS, preflight, type ServerRole } from "./servers.js";
import { snapshotCommand } from "./snapshot.js";

type Options = Readonly<Record<string, unknown>>;

/**
 * The servers each command talks to, read from its code, by command path. Every runnable
 * command has an entry (a unit test walks the program), so a new one must say what it needs.
 */
export const COMMAND_SERVERS: Readonly<Record<string, (opts: Options) => readonly ServerRole[]>> = {
  // The local deployment in moto, the snapshot (ddc + MongoDB), the functions (plan reads ddc,
  // the ledger is on support), the Spark jobs (ddc through its secret, curate on support).
  local: () => ALL_SERVERS,
  // The plan reads the devices from ddc and the ledger on support; workers read MongoDB; the
  // functions read their connections from the secrets in moto.
  ingest: () => ALL_SERVERS,
  // Source, ddc and the ledger, through the local functions' secrets in moto.
  reconcile: () => ALL_SERVERS,
  "snapshot load": snapshotDatabases,
  "snapshot advance": snapshotDatabases,
  "snapshot show": snapshotDatabases,
  migrate: () => ["support"],
  "registry job-tables": () => [],
  "registry list": () => [],
  // postgres_extract reads ddc through its secret in moto; curate the ledger on support;
  // analytics only the local warehouse.
  extract: () => ["ddc", "moto"],
  curate: () => ["support", "moto"],
  analytics: () => [],
  // A real stack is read through the Pulumi CLI and AWS: nothing of the local stack to check.
  cutover: (opts) => (opts.stack === LOCAL_STACK ? ALL_SERVERS : []),
  // Reads the stack file and the bench's JSON: no server.
  cost: () => [],
};

/** `snapshot --production` acts on the local cutover example's production databases. */
function snapshotDatabases(opts: Options): readonly ServerRole[] {
  return opts.production ? ["production-ddc", "production-mongodb"] : ["ddc", "mongodb"];
}

/** `snapshot show`: the names from the program down, without the program's. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

export function lakehouseProgram(): Command {
  const program = new Command("lakehouse")
    .description("oven lakehouse: local pipeline runs and tools")
    .version(VERSION)
    .option("--verbose", "print stack traces and debug logs (as LOG_LEVEL=debug does)");
  for (const command of [
    localCommand(),
    ingestCommand(),
    ...jobCommands(),
    snapshotCommand(),
    registryCommand(),
    migrateCommand(),
    reconcileCommand(),
    cutoverCommand(),
    costCommand(),
  ])
    program.addCommand(command);
  return program.hook("preAction", async (root, action) => {
    // Every logger reads LOG_LEVEL (the functions' too), so --verbose reaches them all.
    if (root.opts().verbose) process.env.LOG_LEVEL = "debug";
    const needs = COMMAND_SERVERS[commandPath(action)];
    await preflight(needs?.(action.optsWithGlobals()) ?? []);
  });
}
