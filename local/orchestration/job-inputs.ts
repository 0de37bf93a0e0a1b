/**
 * Whether a local Glue job has anything to do (issue 16): a second `npm start` with nothing new
 * spent most of its time starting Spark for jobs that then found no work. A job whose inputs
 * have not changed since its last successful run is skipped locally, and its last results stand.
 *
 * The inputs, fingerprinted after each successful run: the Iceberg tables the job reads and
 * writes (each table's `version-hint.text`, which every commit of the local Hadoop catalog moves),
 * the file ledger (its newest id and its rows) for the curate job, the files it leaves for later
 * steps (the dashboard's data), the job's arguments, the job tables file, and the job's code. Any
 * of them changing, or a table or file gone, runs the job. In AWS the jobs always run: this only
 * spares a local machine's minutes.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import pg from "pg";
import { z } from "zod";
import type { SparkJob, SparkJobRun } from "./spark-job.js";

export interface JobInputs {
  /** Iceberg tables of the local warehouse the job reads or writes, as `<namespace>.<table>`. */
  readonly tables: readonly string[];
  /** Whether it reads the file ledger of the support database. */
  readonly ledger: boolean;
  /** Files it writes that a later step reads: one missing runs the job. */
  readonly outputs: readonly string[];
}

export interface InputsContext {
  readonly warehouse: string;
  readonly supportDatabaseUrl: string;
  /** The code the job runs: every `.py` file below it. */
  readonly codeDir?: string;
}

const CODE_DIR = resolve("glue/lakehouse_glue");

/** The job's inputs as one digest. */
export async function inputsFingerprint(
  job: SparkJob,
  inputs: JobInputs,
  context: InputsContext,
): Promise<string> {
  const hash = createHash("sha256");
  const part = (name: string, value: string) => hash.update(`${name}\0${value}\0`);
  part("job", JSON.stringify([job.module, job.args]));
  const tablesFile = job.args[job.args.indexOf("--job-tables") + 1];
  if (job.args.includes("--job-tables") && tablesFile)
    part("job tables", await readOr(tablesFile, "missing"));
  for (const file of await codeFiles(context.codeDir ?? CODE_DIR)) part(file, await readFile(file, "utf8"));
  for (const table of inputs.tables) {
    const [namespace, name] = table.split(".");
    const hint = join(context.warehouse, namespace ?? "", name ?? "", "metadata", "version-hint.text");
    part(table, await readOr(hint, "missing"));
  }
  if (inputs.ledger) part("ledger", await ledgerMark(context.supportDatabaseUrl));
  for (const file of inputs.outputs) part(file, existsSync(file) ? "present" : "missing");
  return hash.digest("hex");
}

async function readOr(file: string, otherwise: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return otherwise;
    throw error;
  }
}

async function codeFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries
    .filter((f) => f.endsWith(".py"))
    .map((f) => join(dir, f))
    .sort();
}

/** The ledger's newest id and its row count: any row added or removed moves one of them. */
async function ledgerMark(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ newest: string | null; n: string }>(
      "SELECT max(id)::text AS newest, count(*)::text AS n FROM file_ledger",
    );
    return `${rows[0]?.newest ?? "none"}/${rows[0]?.n ?? "0"}`;
  } finally {
    await client.end();
  }
}

const RecordSchema = z.object({
  fingerprint: z.string(),
  at: z.string(),
  run: z.object({
    JobRunState: z.literal("SUCCEEDED"),
    Id: z.string(),
    results: z.array(z.unknown()),
    seconds: z.number(),
  }),
});

export type JobRecord = z.infer<typeof RecordSchema>;

/** The last successful run of each job, with its inputs' fingerprint: one JSON file a job. */
export class JobRecords {
  constructor(private readonly dir: string) {}

  private file(job: string): string {
    return join(this.dir, `${job}.json`);
  }

  /** The record, or undefined when there is none or it cannot be read (the job then runs). */
  async last(job: string): Promise<JobRecord | undefined> {
    const text = await readOr(this.file(job), "");
    if (!text) return undefined;
    try {
      const parsed = RecordSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async save(job: string, fingerprint: string, run: SparkJobRun): Promise<void> {
    const file = this.file(job);
    await mkdir(dirname(file), { recursive: true });
    const record: JobRecord = {
      fingerprint,
      at: new Date().toISOString(),
      run: { ...run, results: [...run.results] },
    };
    await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  }

  async forget(job: string): Promise<void> {
    await rm(this.file(job), { force: true });
  }
}
