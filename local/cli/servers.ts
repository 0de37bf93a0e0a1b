/**
 * The local stack's servers a command talks to, checked before the command does any work (issue
 * 16). Without the check a stopped server or a wrong port ends in a driver's stack trace, after
 * the driver's own timeout (10 s for MongoDB; `ingest` retried for 52 s). Each check speaks the
 * server's protocol (a PostgreSQL login and `SELECT 1`, a MongoDB `ping`, an HTTP request to moto)
 * with a short timeout; all run at once, so every unreachable server is reported together, with
 * its address (never its credentials), the setting that names it and what to run.
 */
import { connect } from "node:net";
import { MongoClient } from "mongodb";
import pg from "pg";
import { parseEnv } from "../../pipeline/config.js";
import { PipelineError, TRANSIENT } from "../../pipeline/errors.js";
import { type LocalConfig, LocalConfigSchema } from "../config.js";

/** Each check's time: long enough for a login on a busy two-core machine, short for a person. */
export const PREFLIGHT_TIMEOUT_MS = 2_500;

/** The servers (and databases) a command may need; `production-*` are the local cutover example's. */
export type ServerRole = "ddc" | "support" | "mongodb" | "moto" | "production-ddc" | "production-mongodb";

type Protocol = "postgres" | "mongodb" | "http";

type UrlSetting = keyof LocalConfig &
  (
    | "DDC_DATABASE_URL"
    | "SUPPORT_DATABASE_URL"
    | "MONGODB_URL"
    | "AWS_ENDPOINT_URL"
    | "PRODUCTION_DDC_DATABASE_URL"
    | "PRODUCTION_MONGODB_URL"
  );

interface RoleSpec {
  readonly protocol: Protocol;
  /** The setting that holds the server's URL. */
  readonly setting: UrlSetting;
  /** Read when `setting` is unset, as `readSnapshotConnections` does. */
  readonly fallback?: UrlSetting;
  /** The port variable scripts/stack.env builds the URL from, when the URL itself is not set. */
  readonly portVariable: string;
}

const ROLES = {
  ddc: { protocol: "postgres", setting: "DDC_DATABASE_URL", portVariable: "LAKEHOUSE_PG_PORT" },
  support: { protocol: "postgres", setting: "SUPPORT_DATABASE_URL", portVariable: "LAKEHOUSE_PG_PORT" },
  mongodb: { protocol: "mongodb", setting: "MONGODB_URL", portVariable: "LAKEHOUSE_MONGO_PORT" },
  moto: { protocol: "http", setting: "AWS_ENDPOINT_URL", portVariable: "LAKEHOUSE_MOTO_PORT" },
  "production-ddc": {
    protocol: "postgres",
    setting: "PRODUCTION_DDC_DATABASE_URL",
    portVariable: "LAKEHOUSE_PG_PORT",
  },
  "production-mongodb": {
    protocol: "mongodb",
    setting: "PRODUCTION_MONGODB_URL",
    fallback: "MONGODB_URL",
    portVariable: "LAKEHOUSE_MONGO_PORT",
  },
} as const satisfies Record<ServerRole, RoleSpec>;

export const ALL_SERVERS: readonly ServerRole[] = ["ddc", "support", "mongodb", "moto"];

const SERVER_NAME = { postgres: "PostgreSQL", mongodb: "MongoDB", http: "moto" } as const;
const DEFAULT_PORT = { postgres: 5432, mongodb: 27017, http: 80 } as const;

/** A server to check: what it is and where, without credentials, and which setting says so. */
export interface ServerTarget {
  readonly role: ServerRole;
  readonly protocol: Protocol;
  /** `PostgreSQL`, `MongoDB`, `moto`. */
  readonly server: string;
  /** The PostgreSQL database the URL names (what `database ... does not exist` is about). */
  readonly database?: string;
  /** `host:port` (hosts, for a MongoDB seed list); never user or password. */
  readonly address: string;
  /** The port the URL names, when it names one host. */
  readonly port?: number;
  readonly url: string;
  readonly setting: UrlSetting;
  readonly portVariable: string;
}

/** `PostgreSQL (ddc)`, `MongoDB`. */
export const labelOf = (t: Pick<ServerTarget, "server" | "database">): string =>
  t.database ? `${t.server} (${t.database})` : t.server;

/** Host and port of a URL, credentials dropped; a MongoDB seed list (`a:1,b:2`) as written. */
function whereOf(url: string, protocol: Protocol): { address: string; port?: number; database?: string } {
  try {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : DEFAULT_PORT[protocol];
    const srv = u.protocol === "mongodb+srv:";
    const database =
      protocol === "postgres" ? decodeURIComponent(u.pathname.slice(1)) || undefined : undefined;
    return srv ? { address: u.hostname } : { address: `${u.hostname}:${port}`, port, database };
  } catch {
    // WHATWG URLs hold one host; a seed list is read by hand: after `//` and any `user:pass@`.
    const hosts = /^[a-z+]+:\/\/(?:[^@/]*@)?([^/?]*)/i.exec(url)?.[1] ?? "?";
    return { address: hosts };
  }
}

/**
 * The servers of `roles` as the environment configures them. A required URL that is missing or
 * malformed is a {@link ConfigError} naming it (as the command itself would say); an optional
 * one that is unset (no `AWS_ENDPOINT_URL`: real AWS; no production settings) is not checked.
 */
export function serverTargets(
  roles: readonly ServerRole[],
  env: NodeJS.ProcessEnv = process.env,
): ServerTarget[] {
  const specs: RoleSpec[] = roles.map((r) => ROLES[r]);
  const keys = specs.flatMap((s) => (s.fallback ? [s.setting, s.fallback] : [s.setting]));
  const mask = Object.fromEntries(keys.map((k) => [k, true])) as { [K in UrlSetting]?: true };
  const config = parseEnv(LocalConfigSchema.pick(mask), "local configuration", env) as Partial<
    Record<UrlSetting, string>
  >;
  return roles.flatMap((role): ServerTarget[] => {
    const spec: RoleSpec = ROLES[role];
    const setting = config[spec.setting] === undefined && spec.fallback ? spec.fallback : spec.setting;
    const url = config[setting];
    if (url === undefined) return [];
    return [
      {
        role,
        protocol: spec.protocol,
        server: SERVER_NAME[spec.protocol],
        ...whereOf(url, spec.protocol),
        url,
        setting,
        portVariable: spec.portVariable,
      },
    ];
  });
}

/** Why a server did not answer, in a few words a person can act on. */
export type ReasonKind = "refused" | "timeout" | "host" | "auth" | "database" | "other";

export interface Reason {
  readonly kind: ReasonKind;
  readonly detail: string;
}

export interface Unreachable {
  readonly target: ServerTarget;
  readonly reason: Reason;
  /** The driver's error, for `--verbose`. */
  readonly error: unknown;
}

/**
 * Node's codes of a connection that could not be made or was lost: `TRANSIENT.codes`
 * (pipeline/errors.ts) without its file-system ones. That list says "try again"; this one says
 * "a server is not there".
 */
const FILE_SYSTEM_CODES: ReadonlySet<string> = new Set(["EMFILE", "ENFILE", "EBUSY", "EAGAIN"]);
export const CONNECTION_CODES: ReadonlySet<string> = new Set(
  TRANSIENT.codes.filter((code) => !FILE_SYSTEM_CODES.has(code)),
);

/** The error and everything under it: `cause`s, an AggregateError's `errors` (Node's happy eyeballs). */
export function errorChain(error: unknown): object[] {
  const out: object[] = [];
  const visit = (e: unknown) => {
    if (typeof e !== "object" || e === null || out.includes(e) || out.length > 20) return;
    out.push(e);
    const { cause, errors } = e as { cause?: unknown; errors?: unknown };
    visit(cause);
    if (Array.isArray(errors)) for (const inner of errors) visit(inner);
  };
  visit(error);
  return out;
}

/** `user:password@` in any URL of a driver's message becomes `user:***@`. */
export const maskCredentials = (text: string): string => text.replace(/(\/\/[^:/@\s]*):[^@\s]*@/g, "$1:***@");

/** The first line of a message, credentials masked; the MongoDB driver repeats `a: a: a`, kept once. */
export function shortMessage(message: string, max = 200): string {
  const parts = maskCredentials(message.split("\n")[0] ?? "").split(": ");
  const once = parts.filter((p, i) => p !== parts[i - 1]).join(": ");
  return once.length > max ? `${once.slice(0, max - 1)}…` : once;
}

/**
 * What a driver's error says about the server: refused, no answer in time, unknown host, bad
 * credentials, missing database, or (anything else) its own first line.
 */
export function reasonOf(error: unknown, timeoutMs: number): Reason {
  const chain = errorChain(error);
  const codes = chain.map((e) => String((e as { code?: unknown }).code ?? ""));
  const text = chain.map((e) => `${(e as Error).name ?? ""}: ${(e as Error).message ?? ""}`).join("\n");
  const top = chain[0] as Partial<Error> | undefined;
  const message = shortMessage(top?.message ?? String(error));
  // PostgreSQL's SQLSTATE 28P01/28000 and MongoDB's AuthenticationFailed (18); 3D000 is a database
  // that does not exist. Their messages name the user or database, never the password.
  if (codes.some((c) => c === "28P01" || c === "28000" || c === "18") || /AuthenticationFailed/.test(text))
    return { kind: "auth", detail: message };
  if (codes.includes("3D000")) return { kind: "database", detail: message };
  if (codes.includes("ECONNREFUSED") || /\bECONNREFUSED\b/.test(text))
    return { kind: "refused", detail: "connection refused" };
  if (codes.some((c) => c === "ENOTFOUND" || c === "EAI_AGAIN") || /\b(ENOTFOUND|EAI_AGAIN)\b/.test(text))
    return { kind: "host", detail: "host not found" };
  if (
    codes.some((c) => c === "ETIMEDOUT" || c === "UND_ERR_CONNECT_TIMEOUT") ||
    /timeout|timed out|TimeoutError/i.test(text)
  )
    return { kind: "timeout", detail: `no answer within ${(timeoutMs / 1000).toFixed(1)} s` };
  return { kind: "other", detail: message };
}

async function checkPostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  // A server that drops the connection after the check must not crash the command.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Opens and closes a TCP connection: refused at once, where a driver may wait out its timeout. */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((ok, fail) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      ok();
    });
    socket.once("timeout", () => {
      socket.destroy();
      fail(Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), { code: "ETIMEDOUT" }));
    });
    socket.once("error", (error) => {
      socket.destroy();
      fail(error);
    });
  });
}

async function checkMongo(url: string, timeoutMs: number): Promise<void> {
  // The driver's server selection waits its whole timeout even when the connection is refused
  // (a stopped server): a plain connect first says so at once. Not for a seed list or SRV name.
  const single = URL.canParse(url) ? new URL(url) : undefined;
  if (single?.protocol === "mongodb:" && single.port)
    await tcpConnect(single.hostname.replace(/^\[|\]$/g, ""), Number(single.port), timeoutMs);
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
  });
  try {
    await client.db("admin").command({ ping: 1 });
  } finally {
    // Its monitors would otherwise keep the process alive after the error is printed.
    await client.close().catch(() => undefined);
  }
}

async function checkHttp(url: string, timeoutMs: number): Promise<void> {
  // moto's own page; any answer short of a server error means an HTTP server is there.
  const response = await fetch(new URL("/moto-api/", url), { signal: AbortSignal.timeout(timeoutMs) });
  await response.body?.cancel();
  if (response.status >= 500) throw new Error(`answered HTTP ${response.status}`);
}

const CHECKS = { postgres: checkPostgres, mongodb: checkMongo, http: checkHttp } as const;

/** Rejects after `ms` as a timeout: a check the driver's own timeouts did not bound. */
function deadline(ms: number): { promise: Promise<never>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/** Checks every target at once; the unreachable ones, in the order given. */
export async function checkServers(
  targets: readonly ServerTarget[],
  timeoutMs: number = PREFLIGHT_TIMEOUT_MS,
): Promise<Unreachable[]> {
  const results = await Promise.all(
    targets.map(async (target): Promise<Unreachable | undefined> => {
      const guard = deadline(timeoutMs + 1_000);
      try {
        await Promise.race([CHECKS[target.protocol](target.url, timeoutMs), guard.promise]);
        return undefined;
      } catch (error) {
        return { target, reason: reasonOf(error, timeoutMs), error };
      } finally {
        guard.clear();
      }
    }),
  );
  return results.filter((r): r is Unreachable => r !== undefined);
}

const STACK_HINT = "npm run stack -- status shows what is running; npm run stack -- start starts it";

/** How the port of a target relates to the port variable scripts/stack.env builds its URL from. */
export interface PortNote {
  /** `variable`: the URL uses the variable's port; `apart`: the URL was set apart from it. */
  readonly kind: "variable" | "apart";
  readonly text: string;
}

/**
 * `LAKEHOUSE_PG_PORT=55700` when the URL uses the variable's port; when the URL was set apart from
 * it (scripts/stack.env then leaves the URL alone), says so: a stale URL is a wrong port too.
 */
export function portNote(target: ServerTarget, env: NodeJS.ProcessEnv): PortNote | undefined {
  if (target.port === undefined) return undefined;
  const configured = env[target.portVariable];
  if (configured === String(target.port))
    return { kind: "variable", text: `${target.portVariable}=${configured}` };
  const versus = configured === undefined ? "" : ` but ${target.portVariable}=${configured}`;
  return {
    kind: "apart",
    text: `${target.setting} names port ${target.port}${versus}: correct it, or unset it so scripts/stack.env builds it from ${target.portVariable}`,
  };
}

/** What to do about one failure: the same advice for several failures is given once. */
function hintOf(failure: Unreachable): string {
  const { target, reason } = failure;
  switch (reason.kind) {
    case "auth":
      return target.protocol === "postgres"
        ? `check the user and password in ${target.setting} (scripts/stack.env builds it from LAKEHOUSE_PG_USER and LAKEHOUSE_PG_PASSWORD)`
        : `check the credentials in ${target.setting}`;
    case "database":
      return `npm run stack -- start creates the stack's databases (ddc, ddc_production, support); or check the database named in ${target.setting}`;
    case "host":
      return `check the host in ${target.setting}`;
    case "refused":
    case "timeout":
    case "other":
      return STACK_HINT;
  }
}

/**
 * The report: one line per unreachable server (databases of one server that fail alike share
 * it: `PostgreSQL (ddc, support)`), then what to run, once per kind of advice; for a server that
 * did not answer, the port variable it was looked for on, and any URL set apart from its variable.
 */
export function formatUnreachable(
  failures: readonly Unreachable[],
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const groups = new Map<string, Unreachable[]>();
  for (const f of failures) {
    const key = `${f.target.server}\n${f.target.address}\n${f.reason.detail}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const lines = [...groups.values()].map((group) => {
    const [first] = group as [Unreachable, ...Unreachable[]];
    const databases = [...new Set(group.flatMap((f) => (f.target.database ? [f.target.database] : [])))];
    const label = labelOf({ server: first.target.server, database: databases.join(", ") || undefined });
    return `${label} is not reachable at ${first.target.address}: ${first.reason.detail}`;
  });
  const hints = new Map<string, Set<string>>();
  const apart = new Set<string>();
  for (const f of failures) {
    const hint = hintOf(f);
    const ports = hints.get(hint) ?? new Set<string>();
    hints.set(hint, ports);
    if (hint !== STACK_HINT) continue;
    const note = portNote(f.target, env);
    if (note?.kind === "variable") ports.add(note.text);
    if (note?.kind === "apart") apart.add(note.text);
  }
  for (const [hint, ports] of hints)
    lines.push(`→ ${hint}${ports.size ? ` (ports: ${[...ports].join(", ")})` : ""}`);
  for (const note of apart) lines.push(`→ ${note}`);
  return lines;
}

/** Servers a command needs did not answer: nothing was done. Running again once they are up can succeed. */
export class ServerUnreachableError extends PipelineError {
  readonly retryable = true;
  readonly failures: readonly Unreachable[];

  constructor(failures: readonly Unreachable[], env: NodeJS.ProcessEnv = process.env) {
    super(
      formatUnreachable(failures, env).join("\n"),
      {},
      {
        cause: new AggregateError(
          failures.map((f) => f.error),
          "the drivers' errors",
        ),
      },
    );
    this.failures = failures;
  }
}

/**
 * Checks the servers of `roles`.
 * @throws ServerUnreachableError naming every server that did not answer.
 * @throws ConfigError when a URL the roles need is missing or malformed.
 */
export async function preflight(
  roles: readonly ServerRole[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs: number = PREFLIGHT_TIMEOUT_MS,
): Promise<void> {
  if (!roles.length) return;
  const failures = await checkServers(serverTargets(roles, env), timeoutMs);
  if (failures.length) throw new ServerUnreachableError(failures, env);
}
