/** The project's command line: `tsx local/cli/main.ts <command>` (npm start runs `local`). */
import { Command } from "commander";
import { PipelineError } from "../../pipeline/errors.js";
import { cutoverCommand } from "./cutover.js";
import { ingestCommand } from "./ingest.js";
import { localCommand } from "./local.js";
import { migrateCommand } from "./migrate.js";
import { reconcileCommand } from "./reconcile.js";
import { registryCommand } from "./registry.js";
import { snapshotCommand } from "./snapshot.js";

const program = new Command("lakehouse")
  .description("oven lakehouse: local pipeline runs and tools")
  .addCommand(localCommand())
  .addCommand(ingestCommand())
  .addCommand(snapshotCommand())
  .addCommand(registryCommand())
  .addCommand(migrateCommand())
  .addCommand(reconcileCommand())
  .addCommand(cutoverCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Known failures print one clear line; anything else keeps its stack for the bug report.
  if (error instanceof PipelineError) {
    console.error(`${error.name}: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
