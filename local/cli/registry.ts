/** `registry`: print what the registry derives, for humans and for the Glue jobs' argument. */

import { Command, Option } from "commander";
import {
  collections,
  glueColumnsOf,
  icebergPartitionOf,
  jobTables,
  tables,
} from "../../pipeline/schema/index.js";
import { formatTable } from "./table.js";

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
      const entries = [
        ...collections.map((c) => ({
          entry: c,
          name: `mongodb.${c.name}`,
          how: icebergPartitionOf(c)
            .map((p) => p.sql)
            .join(", "),
        })),
        ...tables.map((t) => ({ entry: t, name: `postgres.${t.name}`, how: t.behaviour })),
      ];
      const head = [
        { header: "table" },
        { header: "columns", align: "right" as const },
        { header: "layout" },
      ];
      if (!opts.columns) {
        const rows = entries.map((e) => [e.name, e.entry.columns.length, e.how]);
        console.log(formatTable(head, rows, { indent: 0 }));
        return;
      }
      for (const e of entries) {
        console.log(
          formatTable(head, [[e.name, e.entry.columns.length, e.how]], { indent: 0, header: false }),
        );
        const columns = glueColumnsOf(e.entry).map((col) => [col.name, col.type]);
        console.log(
          formatTable([{ header: "column" }, { header: "Glue type" }], columns, { indent: 4, header: false }),
        );
      }
    });
  return cmd;
}
