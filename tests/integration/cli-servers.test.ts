/**
 * The CLI with a server of the local stack away (issue 16): the real `lakehouse` program, run as
 * a child process with one server at a time (then two) looked for on a closed port, must stop
 * before any work with one report naming the server, its address and the fix, no stack trace
 * unless `--verbose`, exit status 1, within seconds. The shared stack is never stopped: the child
 * is only told other ports.
 */
import { readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../local/config.js";
import { type ChildRun, freePort, runChild } from "../support/child.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
/** A guard against a driver's own 10 s timeout or a retry loop, not a benchmark. */
const FAST_SECONDS = 15;
const STACK_LINE = /^\s+at /m;
const FIX = "npm run stack -- status shows what is running; npm run stack -- start starts it";

// The stack's settings must be in the environment (scripts/stack.env): the child inherits them.
loadLocalConfig();

type Run = ChildRun;

/** `lakehouse <args>`, through tsx as scripts/lakehouse.sh runs it, or through that script itself. */
function lakehouse(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  via: "tsx" | "script" = "tsx",
): Promise<Run> {
  const [command, argv] =
    via === "tsx"
      ? [join(ROOT, "node_modules/.bin/tsx"), ["local/cli/main.ts", ...args]]
      : ["bash", ["scripts/lakehouse.sh", ...args]];
  return runChild(command, argv, { cwd: ROOT, env });
}

type Server = "postgres" | "mongodb" | "moto";

/** Each server's port variable and the URLs scripts/stack.env builds from it. */
const SETTINGS = {
  postgres: {
    variable: "LAKEHOUSE_PG_PORT",
    urls: ["DDC_DATABASE_URL", "SUPPORT_DATABASE_URL", "PRODUCTION_DDC_DATABASE_URL"],
  },
  mongodb: { variable: "LAKEHOUSE_MONGO_PORT", urls: ["MONGODB_URL", "PRODUCTION_MONGODB_URL"] },
  moto: { variable: "LAKEHOUSE_MOTO_PORT", urls: ["AWS_ENDPOINT_URL"] },
} as const satisfies Record<Server, { variable: string; urls: readonly string[] }>;

/** The environment of a stack whose `server` is on `port`, as scripts/stack.env would make it. */
function onPort(server: Server, port: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { variable, urls } = SETTINGS[server];
  const moved: NodeJS.ProcessEnv = { ...env, [variable]: String(port) };
  for (const name of urls) {
    const value = env[name];
    if (value === undefined) continue;
    const url = new URL(value);
    url.port = String(port);
    moved[name] = url.toString();
  }
  return moved;
}

function expectStoppedEarly(run: Run): void {
  expect(run.code, run.stderr).toBe(1);
  // Stopped before the action: the commands print their first line (ingesting..., sources: ...) there.
  expect(run.stdout).toBe("");
  expect(run.stderr).not.toMatch(STACK_LINE);
  // The stack's password is never printed, however the URL is shown.
  expect(run.stderr).not.toMatch(/:[^@\s/]+@/);
  expect(run.seconds).toBeLessThan(FAST_SECONDS);
}

describe("a server of the local stack on a closed port", () => {
  it.each([
    ["snapshot show", "postgres", "PostgreSQL (ddc)"],
    ["snapshot show", "mongodb", "MongoDB"],
    ["migrate", "postgres", "PostgreSQL (support)"],
    ["ingest", "postgres", "PostgreSQL (ddc, support)"],
    ["ingest", "mongodb", "MongoDB"],
    ["ingest", "moto", "moto"],
    ["local", "postgres", "PostgreSQL (ddc, support)"],
    ["local", "mongodb", "MongoDB"],
    ["local", "moto", "moto"],
  ] as const)("%s stops before any work when %s is away, naming %s", async (command, server, label) => {
    const port = await freePort();
    const run = await lakehouse(command.split(" "), onPort(server, port));
    expectStoppedEarly(run);
    expect(run.stderr).toBe(
      `${label} is not reachable at 127.0.0.1:${port}: connection refused\n` +
        `→ ${FIX} (ports: ${SETTINGS[server].variable}=${port})\n`,
    );
  });

  it("lists every server that is away at once", async () => {
    const [mongo, moto] = [await freePort(), await freePort()];
    const run = await lakehouse(["ingest"], onPort("moto", moto, onPort("mongodb", mongo)));
    expectStoppedEarly(run);
    expect(run.stderr).toBe(
      `MongoDB is not reachable at 127.0.0.1:${mongo}: connection refused\n` +
        `moto is not reachable at 127.0.0.1:${moto}: connection refused\n` +
        `→ ${FIX} (ports: LAKEHOUSE_MONGO_PORT=${mongo}, LAKEHOUSE_MOTO_PORT=${moto})\n`,
    );
  });

  it("takes a wrong port variable through scripts/stack.env, which builds the URLs from it", async () => {
    const port = await freePort();
    const { MONGODB_URL: _url, PRODUCTION_MONGODB_URL: _production, ...env } = process.env;
    const run = await lakehouse(
      ["snapshot", "show"],
      { ...env, LAKEHOUSE_MONGO_PORT: String(port) },
      "script",
    );
    expectStoppedEarly(run);
    expect(run.stderr).toContain(`MongoDB is not reachable at 127.0.0.1:${port}: connection refused`);
    expect(run.stderr).toContain(`(ports: LAKEHOUSE_MONGO_PORT=${port})`);
  });

  it("says a server that accepts the connection but never answers did not answer in time", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    const { port } = silent.address() as { port: number };
    try {
      const run = await lakehouse(["snapshot", "show"], onPort("mongodb", port));
      expectStoppedEarly(run);
      expect(run.stderr).toContain(`MongoDB is not reachable at 127.0.0.1:${port}: no answer within 2.5 s`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((ok) => silent.close(ok));
    }
  });

  it("shows the drivers' stack traces with --verbose, still without the password", async () => {
    const port = await freePort();
    const run = await lakehouse(["snapshot", "show", "--verbose"], onPort("postgres", port));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `PostgreSQL (ddc) is not reachable at 127.0.0.1:${port}: connection refused`,
    );
    expect(run.stderr).toMatch(STACK_LINE);
    expect(run.stderr).toContain(`caused by: Error: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(run.stderr).not.toMatch(/:[^@\s/]+@/);
  });

  it("does not hold up a command that needs no server", async () => {
    let env = process.env;
    for (const server of ["postgres", "mongodb", "moto"] as const)
      env = onPort(server, await freePort(), env);
    const run = await lakehouse(["registry", "list"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("mongodb.");
  });
});

it("--version prints the package's version", async () => {
  const run = await lakehouse(["--version"], process.env);
  expect(run).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
});
