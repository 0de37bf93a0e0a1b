/** `registry`: print what the registry derives, for humans and for the Glue jobs' argument. */
import { Command, Option } from "commander";
import {
  collections,
  glueColumnsOf,
  icebergPartitionOf,
  jobTables,
  tables,
} from "../../pipeline/schema/index.js";

export function registryCommand(): Command {
  const cmd = new Command("registry").description("show the lake tables the zod registry defines");

  cmd
    .command("job-tables")
    .description("print the Glue jobs' table list (JSON)")
    .action(() => {
      process.stdout.write(`${JSON.stringify(jobTables(), null, 2)}\n`);
    });

  cmd
    .command("list")
    .description("one line per table: kind, name, behaviour or partitioning, columns")
    .addOption(new Option("--columns", "print each table's Glue columns too"))
    .action((opts: { columns?: boolean }) => {
      for (const c of collections) {
        const partition = icebergPartitionOf(c)
          .map((p) => p.sql)
          .join(", ");
        console.log(
          `mongodb.${c.name.padEnd(24)} ${String(c.columns.length).padStart(3)} columns  ${partition}`,
        );
        if (opts.columns) printColumns(c);
      }
      for (const t of tables) {
        console.log(
          `postgres.${t.name.padEnd(23)} ${String(t.columns.length).padStart(3)} columns  ${t.behaviour}`,
        );
        if (opts.columns) printColumns(t);
      }
    });
  return cmd;
}

function printColumns(entry: Parameters<typeof glueColumnsOf>[0]): void {
  for (const col of glueColumnsOf(entry)) console.log(`    ${col.name.padEnd(24)} ${col.type}`);
}
