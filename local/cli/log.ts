/**
 * The logger of commands that run the functions locally (`ingest`; `local` can share it). Every
 * record goes whole, error stacks included, to a file under .local/log; the terminal gets one line
 * per warning or error. Before this, each failed attempt of a task printed a 2.5 KB JSON line on
 * the terminal (issue 16). `--verbose` (LOG_LEVEL=debug) puts the JSON records on stderr again.
 */
import { join } from "node:path";
import pino, { type Level, type Logger } from "pino";
import { shortMessage } from "./servers.js";

/** Where the local runs' logs are (the Spark jobs' too). */
export const LOCAL_LOG_DIR = join(".local", "log");

/** `--verbose` sets LOG_LEVEL=debug, so every logger that reads LOG_LEVEL follows it. */
export const isVerbose = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.LOG_LEVEL === "debug" || env.LOG_LEVEL === "trace";

/** The fields of a pino record the terminal line is made of. */
export interface LogRecord {
  readonly level: number;
  readonly msg?: string;
  readonly err?: { readonly type?: string; readonly message?: string };
  readonly [field: string]: unknown;
}

export interface CliLoggerOptions {
  /** Default: .local/log/<name>.log, appended to. */
  readonly file?: string;
  /** Where terminal lines go (above progress bars, say); default stderr. */
  readonly print?: (line: string) => void;
  /** Records the terminal need not show, because something else prints them already. */
  readonly omit?: (record: LogRecord) => boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** `error: summarize failed: MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27099`. */
export function terminalLine(record: LogRecord): string {
  const label = pino.levels.labels[record.level] ?? String(record.level);
  const err = record.err
    ? `: ${shortMessage(`${record.err.type ?? "Error"}: ${record.err.message ?? ""}`)}`
    : "";
  return `${label}: ${record.msg ?? ""}${err}`;
}

const rank = (level: Level): number => pino.levels.values[level] ?? 0;
const lower = (a: Level, b: Level): Level => (rank(a) <= rank(b) ? a : b);

export function cliLogger(name: string, options: CliLoggerOptions = {}): { log: Logger; file: string } {
  const env = options.env ?? process.env;
  const file = options.file ?? join(LOCAL_LOG_DIR, `${name}.log`);
  const print = options.print ?? ((line: string) => process.stderr.write(`${line}\n`));
  const consoleLevel = (env.LOG_LEVEL ?? "warn") as Level;
  // The file keeps the details: info at least, whatever the terminal shows.
  const fileLevel = lower(consoleLevel, "info");
  let told = false;
  const terminal = isVerbose(env)
    ? pino.destination(2)
    : {
        write(line: string) {
          const record = JSON.parse(line) as LogRecord;
          if (options.omit?.(record)) return;
          print(`${terminalLine(record)}${told ? "" : ` (details: ${file})`}`);
          told = true;
        },
      };
  const log = pino(
    { name, level: fileLevel },
    pino.multistream([
      { level: fileLevel, stream: pino.destination({ dest: file, mkdir: true, append: true, sync: true }) },
      { level: consoleLevel, stream: terminal },
    ]),
  );
  return { log, file };
}
