/**
 * How the CLI reports an error that ends a command (issue 16): a known failure in one line (or
 * the few lines of the servers' preflight), with the stack only under `--verbose`; a connection
 * that broke during the command (a server stopped mid-run, past the preflight) named by its
 * server and address; anything else is a bug and keeps its stack.
 */
import { inspect } from "node:util";
import { PipelineError } from "../../pipeline/errors.js";
import { isVerbose } from "./log.js";
import {
  ALL_SERVERS,
  CONNECTION_CODES,
  errorChain,
  labelOf,
  maskCredentials,
  type ServerTarget,
  ServerUnreachableError,
  serverTargets,
  shortMessage,
} from "./servers.js";

const MONGO_NETWORK = /^Mongo(?:Network|NetworkTimeout|ServerSelection|TopologyClosed)Error$/;
/** node-postgres' words for a connection it lost or could not open in time (no `code`). */
const PG_LOST = /^Connection terminated|^timeout expired$|^Connection terminated due to connection timeout$/;

/** The address of a connection error: Node's `address`/`port`, or a `host:port` in the message. */
function addressOf(chain: readonly object[]): string | undefined {
  for (const e of chain) {
    const { address, port } = e as { address?: unknown; port?: unknown };
    if (typeof address === "string" && typeof port === "number") return `${address}:${port}`;
  }
  for (const e of chain) {
    const found = /\b((?:\d{1,3}\.){3}\d{1,3}|localhost|\[[0-9a-f:]+\]):(\d{1,5})\b/i.exec(
      String((e as Error).message ?? ""),
    );
    if (found) return `${found[1]}:${found[2]}`;
  }
  return undefined;
}

/** The error, when it is a connection to a server that failed or broke; undefined otherwise. */
export function connectionError(error: unknown): { address?: string; message: string } | undefined {
  const chain = errorChain(error);
  const hit = chain.some((e) => {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    return (
      (typeof code === "string" && CONNECTION_CODES.has(code)) ||
      (typeof name === "string" && MONGO_NETWORK.test(name)) ||
      (typeof message === "string" && PG_LOST.test(message))
    );
  });
  if (!hit) return undefined;
  const top = error as Partial<Error>;
  return { address: addressOf(chain), message: shortMessage(`${top.name ?? "Error"}: ${top.message ?? ""}`) };
}

/** Which configured server listens at `address`: `PostgreSQL`, or a database's label when only one. */
function serverAt(address: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (!address) return undefined;
  let targets: ServerTarget[];
  try {
    targets = serverTargets(ALL_SERVERS, env);
  } catch {
    return undefined;
  }
  const here = targets.filter((t) => t.address === address);
  const [first] = here;
  if (!first) return undefined;
  return here.length === 1 ? labelOf(first) : first.server;
}

/**
 * The stack traces for `--verbose`: the error's and each cause's (the drivers' errors of a
 * preflight), without the objects they carry (a MongoDB topology runs to a hundred lines).
 */
export function stackTraces(error: unknown): string {
  const traces = errorChain(error).map((e) =>
    typeof (e as Error).stack === "string" ? (e as Error).stack : inspect(e, { depth: 2 }),
  );
  return maskCredentials(traces.join("\ncaused by: "));
}

export interface FailureReport {
  readonly lines: readonly string[];
  readonly exitCode: number;
}

/** The lines to print for an error that ended a command, and the exit code. */
export function failureReport(error: unknown, env: NodeJS.ProcessEnv = process.env): FailureReport {
  const verbose = isVerbose(env);
  const stack = () => stackTraces(error);
  // A stack trace begins with `Name: message`: under --verbose it replaces the line.
  if (error instanceof ServerUnreachableError)
    return { lines: [verbose ? stack() : error.message], exitCode: 1 };
  if (error instanceof PipelineError)
    return { lines: [verbose ? stack() : `${error.name}: ${error.message}`], exitCode: 1 };
  const lost = connectionError(error);
  if (lost) {
    const server = serverAt(lost.address, env) ?? "a server";
    const where = lost.address ? ` at ${lost.address}` : "";
    return {
      lines: [
        `${server}${where} failed during the command: ${lost.message}${verbose ? "" : " (--verbose for the stack trace)"}`,
        "→ npm run stack -- status shows what is running; npm run stack -- start starts it",
        ...(verbose ? [stack()] : []),
      ],
      exitCode: 1,
    };
  }
  // Not a failure we know: a bug, reported whole (stack and properties) for its report.
  return { lines: [maskCredentials(inspect(error, { depth: 6 }))], exitCode: 1 };
}
