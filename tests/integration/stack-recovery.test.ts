/**
 * `scripts/stack.sh` after a crash (issue 16): a throwaway stack, in its own state folder and on
 * free ports so the shared one is never touched, has each server killed with SIGKILL in turn;
 * `start` must clean up what the dead server left, restart it and say so, and `status` must say
 * why a server is down and how to fix it, and never take another process on the port for ours.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChildRun, freePort, runChild } from "../support/child.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FIX_START = "fix: npm run stack -- start";

type Run = ChildRun;

function stack(verb: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return runChild("bash", ["scripts/stack.sh", verb], { cwd: ROOT, env });
}

async function pidIn(file: string): Promise<number> {
  return Number((await readFile(file, "utf8")).split("\n")[0]);
}

/** A zombie counts as dead here, as in stack.sh: its parent may not have reaped it yet. */
async function running(pid: number): Promise<boolean> {
  try {
    return !/^State:\s+[ZX]/m.test(await readFile(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function statusLine(out: string, server: string): string {
  return out.split("\n").find((line) => line.startsWith(`[stack] ${server} `)) ?? "";
}

describe("scripts/stack.sh help", () => {
  it.each(["--help", "-h", "help"])("%s exits 0 and describes every verb and setting", async (flag) => {
    const run = await stack(flag);
    expect(run.code).toBe(0);
    for (const verb of ["start", "stop", "restart", "status", "install", "env", "help"]) {
      expect(run.stdout).toMatch(new RegExp(`^ {2}${verb} +\\S`, "m"));
    }
    for (const setting of [
      "LAKEHOUSE_PG_PORT",
      "LAKEHOUSE_MONGO_PORT",
      "LAKEHOUSE_MOTO_PORT",
      "LAKEHOUSE_STATE_DIR",
    ]) {
      expect(run.stdout).toContain(setting);
    }
  });

  it("an unknown verb exits 2, naming the word, with the usage", async () => {
    const run = await stack("strat");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown verb "strat"');
    expect(run.stderr).toContain("usage: scripts/stack.sh start|stop|restart|status");
  });
});

describe("a throwaway stack killed server by server", () => {
  let state: string;
  let env: NodeJS.ProcessEnv;
  const ports = { postgres: 0, ferretdb: 0, moto: 0 };
  const pidFile = (server: keyof typeof ports) =>
    server === "postgres" ? join(state, "data/pg/postmaster.pid") : join(state, `run/${server}.pid`);

  async function answers(server: keyof typeof ports): Promise<void> {
    if (server === "postgres") {
      const client = new pg.Client({
        host: "127.0.0.1",
        port: ports.postgres,
        user: "lakehouse",
        password: "lakehouse",
        database: "ddc",
      });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT current_setting('data_directory') AS dir");
        expect(rows[0].dir).toBe(join(state, "data/pg"));
      } finally {
        await client.end();
      }
    } else if (server === "ferretdb") {
      const client = new MongoClient(`mongodb://127.0.0.1:${ports.ferretdb}/`, {
        serverSelectionTimeoutMS: 5000,
      });
      try {
        expect(await client.db("admin").command({ ping: 1 })).toMatchObject({ ok: 1 });
        // FerretDB keeps its documents in PostgreSQL: this also proves it reached the restarted one.
        const coll = client.db("recovery").collection("probe");
        await coll.insertOne({ at: new Date() });
        expect(await coll.countDocuments()).toBeGreaterThan(0);
      } finally {
        await client.close();
      }
    } else {
      const res = await fetch(`http://127.0.0.1:${ports.moto}/moto-api/`);
      expect(res.ok).toBe(true);
    }
  }

  beforeAll(async () => {
    state = await mkdtemp(join(tmpdir(), "lakehouse-stack-"));
    ports.postgres = await freePort();
    ports.ferretdb = await freePort();
    ports.moto = await freePort();
    env = {
      ...process.env,
      LAKEHOUSE_STATE_DIR: state,
      LAKEHOUSE_PG_PORT: String(ports.postgres),
      LAKEHOUSE_MONGO_PORT: String(ports.ferretdb),
      LAKEHOUSE_MOTO_PORT: String(ports.moto),
    };
    // Derived from the ports by scripts/stack.env unless already set, as they are under npm test.
    for (const derived of ["DDC_DATABASE_URL", "SUPPORT_DATABASE_URL", "MONGODB_URL", "AWS_ENDPOINT_URL"]) {
      delete env[derived];
    }
    const run = await stack("start", env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (state === undefined) return;
    const run = await stack("stop", env);
    await rm(state, { recursive: true, force: true });
    expect(run.code).toBe(0);
  }, 60_000);

  it.each([
    ["postgres", "postmaster.pid"],
    ["ferretdb", "ferretdb.pid"],
    ["moto", "moto.pid"],
  ] as const)("restarts %s after kill -9, saying what it recovered", async (server, file) => {
    const pid = await pidIn(pidFile(server));
    // Its parent is init, which may leave it a zombie for a while: start runs right away, as
    // an operator would, and must not take the zombie for a live server.
    process.kill(pid, "SIGKILL");

    const status = await stack("status", env);
    expect(status.code).toBe(1);
    const down = statusLine(status.stdout, server);
    expect(down).toMatch(new RegExp(`^\\[stack\\] ${server} +DOWN `));
    expect(down).toContain(`stale ${file} (pid ${pid} not running)`);
    expect(down).toContain(FIX_START);

    const start = await stack("start", env);
    expect(start.stderr).toBe("");
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(
      `[stack] recovered ${server}: stale ${file} (pid ${pid} not running), restarted on 127.0.0.1:${ports[server]}`,
    );
    expect(start.stdout.match(/recovered/g)).toHaveLength(1);
    await answers(server);
    expect((await stack("status", env)).code).toBe(0);
  });

  it("distrusts pid files whose pid now belongs to another program, and leaves that program alone", async () => {
    // After a reboot pids are handed out again: the one in postmaster.pid can be anything, which
    // made pg_ctl report "server is running" and PostgreSQL refuse to start.
    const stranger: ChildProcess = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const postmaster = await pidIn(pidFile("postgres"));
      const ferretdb = await pidIn(pidFile("ferretdb"));
      process.kill(postmaster, "SIGKILL");
      process.kill(ferretdb, "SIGKILL");
      await until(
        "the dead servers to go",
        async () => !(await running(postmaster)) && !(await running(ferretdb)),
      );
      const pg = await readFile(pidFile("postgres"), "utf8");
      await writeFile(pidFile("postgres"), pg.replace(/^\d+/, String(stranger.pid)));
      const socketLock = join(state, `run/.s.PGSQL.${ports.postgres}.lock`);
      const lock = await readFile(socketLock, "utf8");
      await writeFile(socketLock, lock.replace(/^\d+/, String(stranger.pid)));
      await writeFile(pidFile("ferretdb"), `${stranger.pid}\n`);

      const status = await stack("status", env);
      expect(status.code).toBe(1);
      for (const [server, file] of [
        ["postgres", "postmaster.pid"],
        ["ferretdb", "ferretdb.pid"],
      ] as const) {
        expect(statusLine(status.stdout, server)).toContain(
          `stale ${file} (pid ${stranger.pid} is now another program: sleep 60)`,
        );
      }

      const start = await stack("start", env);
      expect(start.stderr).toBe("");
      expect(start.code).toBe(0);
      expect(start.stdout).toContain(
        `recovered postgres: stale postmaster.pid (pid ${stranger.pid} is now another program: sleep 60)`,
      );
      expect(start.stdout).toContain(
        `recovered ferretdb: stale ferretdb.pid (pid ${stranger.pid} is now another program: sleep 60)`,
      );
      expect(await running(stranger.pid ?? 0)).toBe(true);
      await answers("postgres");
      await answers("ferretdb");
    } finally {
      stranger.kill("SIGKILL");
    }
  });

  it("says moto's port is held by another process, not that moto is up, and start refuses it", async () => {
    const moto = await pidIn(pidFile("moto"));
    process.kill(moto, "SIGTERM");
    await until("moto to exit", async () => !(await running(moto)));
    const squatter: Server = createServer((socket) => socket.end());
    await new Promise<void>((ok) => squatter.listen(ports.moto, "127.0.0.1", ok));
    try {
      const status = await stack("status", env);
      expect(status.code).toBe(1);
      const line = statusLine(status.stdout, "moto");
      expect(line).toMatch(/^\[stack\] moto +DOWN /);
      expect(line).toContain(`127.0.0.1:${ports.moto} is held by another process: pid ${process.pid} (`);
      expect(line).toContain("LAKEHOUSE_MOTO_PORT=<a free port>");
      expect(statusLine(status.stdout, "postgres")).toMatch(/ up /);

      const start = await stack("start", env);
      expect(start.code).toBe(1);
      expect(start.stderr).toContain(
        `127.0.0.1:${ports.moto} is held by another process: pid ${process.pid}`,
      );
      expect(start.stderr).toContain("not this stack's moto");
    } finally {
      await new Promise((ok) => squatter.close(ok));
    }
    const start = await stack("start", env);
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(`recovered moto: stale moto.pid (pid ${moto} not running)`);
    await answers("moto");
  });

  it("does not report another stack's servers as its own after a port change", async () => {
    // A second, empty state folder pointed at the first stack's ports: the servers answering
    // there are not its own.
    const other = await mkdtemp(join(tmpdir(), "lakehouse-stack-other-"));
    try {
      const status = await stack("status", { ...env, LAKEHOUSE_STATE_DIR: other });
      expect(status.code).toBe(1);
      expect(status.stdout).not.toMatch(/ up /);
      expect(statusLine(status.stdout, "postgres")).toContain(
        `127.0.0.1:${ports.postgres} is another PostgreSQL (data directory ${join(state, "data/pg")})`,
      );
      for (const server of ["ferretdb", "moto"] as const) {
        const line = statusLine(status.stdout, server);
        expect(line).toContain(`not running (no ${server}.pid)`);
        expect(line).toContain(
          `127.0.0.1:${ports[server]} is held by another process: pid ${await pidIn(pidFile(server))}`,
        );
      }
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
