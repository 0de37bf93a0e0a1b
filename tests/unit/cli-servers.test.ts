/**
 * The CLI's servers preflight and failure reports (issue 16), without servers: how a driver's
 * error is read, how unreachable servers are reported (grouped, with the fix and the port
 * variable, never a password), how an error that ends a command is printed, and that every
 * command of the program declares the servers it needs.
 */
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { failureReport } from "../../local/cli/failures.js";
import { terminalLine } from "../../local/cli/log.js";
import { COMMAND_SERVERS, commandPath, lakehouseProgram } from "../../local/cli/program.js";
import {
  formatUnreachable,
  reasonOf,
  ServerUnreachableError,
  serverTargets,
  shortMessage,
  type Unreachable,
} from "../../local/cli/servers.js";
import { ConfigError } from "../../pipeline/errors.js";

const ENV = {
  LAKEHOUSE_PG_PORT: "55432",
  LAKEHOUSE_MONGO_PORT: "27018",
  LAKEHOUSE_MOTO_PORT: "45050",
  DDC_DATABASE_URL: "postgres://lakehouse:s3cret@127.0.0.1:55432/ddc",
  SUPPORT_DATABASE_URL: "postgres://lakehouse:s3cret@127.0.0.1:55432/support",
  MONGODB_URL: "mongodb://127.0.0.1:27018/",
  MONGODB_DATABASE: "iot",
  AWS_ENDPOINT_URL: "http://127.0.0.1:45050",
} as const;

const nodeError = (code: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { code, ...extra });

const refused = (port: number) =>
  nodeError("ECONNREFUSED", `connect ECONNREFUSED 127.0.0.1:${port}`, {
    address: "127.0.0.1",
    port,
    syscall: "connect",
  });

function unreachable(
  role: Parameters<typeof serverTargets>[0][number],
  error: unknown,
  env: NodeJS.ProcessEnv = ENV,
): Unreachable {
  const [target] = serverTargets([role], env);
  if (!target) throw new Error(`no target for ${role}`);
  return { target, reason: reasonOf(error, 2500), error };
}

describe("reasonOf", () => {
  it.each([
    ["Node's refused connect", refused(55700), "refused", "connection refused"],
    [
      "happy eyeballs' AggregateError",
      new AggregateError([refused(1), refused(2)], "connect failed"),
      "refused",
      "connection refused",
    ],
    [
      "MongoDB's server selection",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:27099"), { name: "MongoServerSelectionError" }),
      "refused",
      "connection refused",
    ],
    [
      "fetch's wrapped cause",
      new TypeError("fetch failed", { cause: refused(45099) }),
      "refused",
      "connection refused",
    ],
    ["node-postgres' connect timeout", new Error("timeout expired"), "timeout", "no answer within 2.5 s"],
    [
      "MongoDB's selection timeout",
      Object.assign(new Error("Server selection timed out after 2500 ms"), {
        name: "MongoServerSelectionError",
      }),
      "timeout",
      "no answer within 2.5 s",
    ],
    [
      "fetch's abort",
      Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" }),
      "timeout",
      "no answer within 2.5 s",
    ],
    ["an unknown host", nodeError("ENOTFOUND", "getaddrinfo ENOTFOUND nohost"), "host", "host not found"],
    [
      "PostgreSQL's wrong password",
      nodeError("28P01", 'password authentication failed for user "lakehouse"'),
      "auth",
      'password authentication failed for user "lakehouse"',
    ],
    [
      "MongoDB's AuthenticationFailed",
      Object.assign(new Error("Authentication failed."), { code: 18, codeName: "AuthenticationFailed" }),
      "auth",
      "Authentication failed.",
    ],
    [
      "a missing database",
      nodeError("3D000", 'database "nodb" does not exist'),
      "database",
      'database "nodb" does not exist',
    ],
    [
      "anything else, credentials masked",
      new Error("bad thing at mongodb://user:hunter2@host:1/\nsecond line"),
      "other",
      "bad thing at mongodb://user:***@host:1/",
    ],
  ])("reads %s", (_name, error, kind, detail) => {
    expect(reasonOf(error, 2500)).toEqual({ kind, detail });
  });
});

describe("shortMessage", () => {
  it("keeps the MongoDB driver's repeated reason once, and the first line only", () => {
    expect(shortMessage("connect ECONNREFUSED 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\nmore")).toBe(
      "connect ECONNREFUSED 127.0.0.1:1",
    );
  });

  it("cuts a long message", () => {
    expect(shortMessage("x".repeat(500), 50)).toHaveLength(50);
  });
});

describe("serverTargets", () => {
  it("names each server by address and setting, without credentials", () => {
    const targets = serverTargets(["ddc", "support", "mongodb", "moto"], ENV);
    expect(targets.map(({ url: _url, ...t }) => t)).toEqual([
      {
        role: "ddc",
        protocol: "postgres",
        server: "PostgreSQL",
        database: "ddc",
        address: "127.0.0.1:55432",
        port: 55432,
        setting: "DDC_DATABASE_URL",
        portVariable: "LAKEHOUSE_PG_PORT",
      },
      {
        role: "support",
        protocol: "postgres",
        server: "PostgreSQL",
        database: "support",
        address: "127.0.0.1:55432",
        port: 55432,
        setting: "SUPPORT_DATABASE_URL",
        portVariable: "LAKEHOUSE_PG_PORT",
      },
      {
        role: "mongodb",
        protocol: "mongodb",
        server: "MongoDB",
        address: "127.0.0.1:27018",
        port: 27018,
        database: undefined,
        setting: "MONGODB_URL",
        portVariable: "LAKEHOUSE_MONGO_PORT",
      },
      {
        role: "moto",
        protocol: "http",
        server: "moto",
        address: "127.0.0.1:45050",
        port: 45050,
        database: undefined,
        setting: "AWS_ENDPOINT_URL",
        portVariable: "LAKEHOUSE_MOTO_PORT",
      },
    ]);
  });

  it("reads production's MongoDB from MONGODB_URL when it has no URL of its own", () => {
    const [target] = serverTargets(["production-mongodb"], ENV);
    expect(target).toMatchObject({ setting: "MONGODB_URL", address: "127.0.0.1:27018" });
  });

  it("shows a MongoDB seed list as written, without its credentials", () => {
    const [target] = serverTargets(["mongodb"], {
      ...ENV,
      MONGODB_URL: "mongodb://u:p@a:1,b:2/?replicaSet=rs",
    });
    expect(target?.address).toBe("a:1,b:2");
  });

  it("skips an optional server that is not configured, and names a required one that is missing", () => {
    const { AWS_ENDPOINT_URL: _moto, DDC_DATABASE_URL: _ddc, ...rest } = ENV;
    expect(serverTargets(["moto", "production-ddc"], rest)).toEqual([]);
    expect(() => serverTargets(["ddc"], rest)).toThrow(ConfigError);
    expect(() => serverTargets(["ddc"], rest)).toThrow(/DDC_DATABASE_URL is not set/);
  });
});

describe("formatUnreachable", () => {
  it("shares a line between the databases of one server that fail alike, and gives the fix once", () => {
    const env = { ...ENV, LAKEHOUSE_PG_PORT: "55700" };
    const down = {
      ...env,
      DDC_DATABASE_URL: "postgres://lakehouse:s3cret@127.0.0.1:55700/ddc",
      SUPPORT_DATABASE_URL: "postgres://lakehouse:s3cret@127.0.0.1:55700/support",
    };
    const lines = formatUnreachable(
      [unreachable("ddc", refused(55700), down), unreachable("support", refused(55700), down)],
      down,
    );
    expect(lines).toEqual([
      "PostgreSQL (ddc, support) is not reachable at 127.0.0.1:55700: connection refused",
      "→ npm run stack -- status shows what is running; npm run stack -- start starts it (ports: LAKEHOUSE_PG_PORT=55700)",
    ]);
  });

  it("lists every unreachable server, with each port variable", () => {
    const env = {
      ...ENV,
      LAKEHOUSE_MONGO_PORT: "27099",
      LAKEHOUSE_MOTO_PORT: "45099",
      MONGODB_URL: "mongodb://127.0.0.1:27099/",
      AWS_ENDPOINT_URL: "http://127.0.0.1:45099",
    };
    const lines = formatUnreachable(
      [
        unreachable("mongodb", new Error("Server selection timed out after 2500 ms"), env),
        unreachable("moto", new TypeError("fetch failed", { cause: refused(45099) }), env),
      ],
      env,
    );
    expect(lines).toEqual([
      "MongoDB is not reachable at 127.0.0.1:27099: no answer within 2.5 s",
      "moto is not reachable at 127.0.0.1:45099: connection refused",
      "→ npm run stack -- status shows what is running; npm run stack -- start starts it (ports: LAKEHOUSE_MONGO_PORT=27099, LAKEHOUSE_MOTO_PORT=45099)",
    ]);
  });

  it("says when a URL names another port than its variable (scripts/stack.env keeps a URL that is set)", () => {
    const env = { ...ENV, MONGODB_URL: "mongodb://127.0.0.1:27099/" };
    expect(formatUnreachable([unreachable("mongodb", refused(27099), env)], env)).toEqual([
      "MongoDB is not reachable at 127.0.0.1:27099: connection refused",
      "→ npm run stack -- status shows what is running; npm run stack -- start starts it",
      "→ MONGODB_URL names port 27099 but LAKEHOUSE_MONGO_PORT=27018: correct it, or unset it so scripts/stack.env builds it from LAKEHOUSE_MONGO_PORT",
    ]);
  });

  it("gives each kind of failure its own fix", () => {
    const lines = formatUnreachable([
      unreachable("ddc", nodeError("28P01", 'password authentication failed for user "lakehouse"')),
      unreachable("support", nodeError("3D000", 'database "support" does not exist')),
    ]);
    expect(lines).toEqual([
      'PostgreSQL (ddc) is not reachable at 127.0.0.1:55432: password authentication failed for user "lakehouse"',
      'PostgreSQL (support) is not reachable at 127.0.0.1:55432: database "support" does not exist',
      "→ check the user and password in DDC_DATABASE_URL (scripts/stack.env builds it from LAKEHOUSE_PG_USER and LAKEHOUSE_PG_PASSWORD)",
      "→ npm run stack -- start creates the stack's databases (ddc, ddc_production, support); or check the database named in SUPPORT_DATABASE_URL",
    ]);
    expect(lines.join("\n")).not.toContain("s3cret");
  });
});

describe("failureReport", () => {
  const quiet = { ...ENV, LOG_LEVEL: "warn" };
  const verbose = { ...ENV, LOG_LEVEL: "debug" };
  const stackLine = /^\s+at /m;

  it("prints the preflight's report alone, and its drivers' stacks under --verbose, never a password", () => {
    const error = new ServerUnreachableError([unreachable("ddc", refused(55432))], ENV);
    const plain = failureReport(error, quiet);
    expect(plain).toEqual({ lines: [error.message], exitCode: 1 });
    const loud = failureReport(error, verbose).lines.join("\n");
    expect(loud).toMatch(stackLine);
    expect(loud).toContain("caused by: Error: connect ECONNREFUSED 127.0.0.1:55432");
    expect(loud).not.toContain("s3cret");
  });

  it("prints a pipeline error in one line, with its stack under --verbose", () => {
    const error = new ConfigError("MONGODB_URL is not set");
    expect(failureReport(error, quiet).lines).toEqual(["ConfigError: MONGODB_URL is not set"]);
    expect(failureReport(error, verbose).lines.join("\n")).toMatch(stackLine);
  });

  it.each([
    ["PostgreSQL", refused(55432), "127.0.0.1:55432"],
    [
      "MongoDB",
      Object.assign(new Error("connection 3 to 127.0.0.1:27018 closed"), { name: "MongoNetworkError" }),
      "127.0.0.1:27018",
    ],
    ["moto", new TypeError("fetch failed", { cause: refused(45050) }), "127.0.0.1:45050"],
  ])("names %s when its connection breaks during a command", (server, error, address) => {
    const { lines, exitCode } = failureReport(error, quiet);
    expect(exitCode).toBe(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^${server} at ${address} failed during the command: .*\\(--verbose for the stack trace\\)$`,
      ),
    );
    expect(lines[1]).toContain("npm run stack -- start");
    expect(lines.join("\n")).not.toMatch(stackLine);
    expect(failureReport(error, verbose).lines.join("\n")).toMatch(stackLine);
  });

  it("says a lost connection without an address is one, without naming a server", () => {
    const { lines } = failureReport(new Error("Connection terminated unexpectedly"), quiet);
    expect(lines[0]).toBe(
      "a server failed during the command: Error: Connection terminated unexpectedly (--verbose for the stack trace)",
    );
  });

  it("keeps the stack of anything else: a bug", () => {
    const { lines, exitCode } = failureReport(new TypeError("x is not a function"), quiet);
    expect(exitCode).toBe(1);
    expect(lines.join("\n")).toMatch(/TypeError: x is not a function\n\s+at /);
  });
});

describe("terminalLine", () => {
  it("makes one line of a pino record and its error", () => {
    expect(
      terminalLine({
        level: 50,
        msg: "summarize failed",
        err: {
          type: "MongoServerSelectionError",
          message: "connect ECONNREFUSED 127.0.0.1:27099: connect ECONNREFUSED 127.0.0.1:27099",
        },
      }),
    ).toBe("error: summarize failed: MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27099");
    expect(terminalLine({ level: 40, msg: "metrics not flushed" })).toBe("warn: metrics not flushed");
  });
});

describe("COMMAND_SERVERS", () => {
  function leaves(command: Command): Command[] {
    return command.commands.length ? command.commands.flatMap(leaves) : [command];
  }

  it("declares the servers of every command the program runs, and of no other", () => {
    const paths = leaves(lakehouseProgram()).map(commandPath);
    expect(paths.sort()).toEqual(Object.keys(COMMAND_SERVERS).sort());
  });

  it.each([
    ["snapshot show", {}, ["ddc", "mongodb"]],
    ["snapshot load", { production: true }, ["production-ddc", "production-mongodb"]],
    ["migrate", {}, ["support"]],
    ["ingest", {}, ["ddc", "support", "mongodb", "moto"]],
    ["cutover", { stack: "local" }, ["ddc", "support", "mongodb", "moto"]],
    ["cutover", { stack: "prod" }, []],
    ["registry list", {}, []],
  ])("%s %o needs %o", (path, opts, roles) => {
    expect(COMMAND_SERVERS[path]?.(opts)).toEqual(roles);
  });
});
