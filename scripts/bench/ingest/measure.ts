/**
 * What every measurement of the ingestion benchmark records: wall time, this process's CPU, how
 * busy its event loop was, and the CPU the servers behind the MongoDB wire used meanwhile.
 *
 * Server CPU (FerretDB process, PostgreSQL cluster) is read from /proc around each measurement:
 * it shows where the time goes outside Node. The cluster serves every client of the local stack,
 * so other work running at the same time shows up there (the parent prints the load average).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ROOT } from "./context.js";

/** CPU milliseconds of the servers behind the MongoDB wire. */
export interface ServerCpu {
  readonly ferretdbMs: number;
  readonly postgresMs: number;
}

export interface Timed {
  readonly ms: number;
  /** User + system CPU of this process, every thread (GC, libuv pool) included. */
  readonly cpuMs: number;
  /** Share of the time the event loop (the one JS thread) was busy rather than waiting. */
  readonly elu: number;
  readonly server: ServerCpu | null;
}

function pidOf(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** utime, stime, cutime, cstime (clock ticks) and ppid of a process, from /proc/<pid>/stat. */
function procTimes(pid: number): { ticks: number; childTicks: number; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const n = (i: number) => Number(f[i - 3]);
    return { ticks: n(14) + n(15), childTicks: n(16) + n(17), ppid: n(4) };
  } catch {
    return null;
  }
}

/** Linux USER_HZ: the unit of /proc times. */
const TICK_MS = 10;

function readdirSafe(path: string): string[] {
  try {
    // Synchronous on purpose: it runs between measurements, never inside one.
    return readdirSync(path);
  } catch {
    return [];
  }
}

/**
 * CPU used so far by FerretDB and by the whole PostgreSQL cluster (postmaster, its live children,
 * and the backends it already reaped). Null off Linux or when the local stack's pid files
 * (written by scripts/stack.sh and PostgreSQL) are absent.
 */
export function serverCpu(): ServerCpu | null {
  const ferret = pidOf(join(ROOT, ".local/run/ferretdb.pid"));
  const postmaster = pidOf(join(ROOT, ".local/data/pg/postmaster.pid"));
  if (!ferret || !postmaster) return null;
  const f = procTimes(ferret);
  const p = procTimes(postmaster);
  if (!f || !p) return null;
  let pgTicks = p.ticks + p.childTicks;
  for (const entry of readdirSafe("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const t = procTimes(Number(entry));
    if (t?.ppid === postmaster) pgTicks += t.ticks;
  }
  return { ferretdbMs: f.ticks * TICK_MS, postgresMs: pgTicks * TICK_MS };
}

/** The sum of two server readings; null when either is unknown. */
export function addServerCpu(a: ServerCpu | null, b: ServerCpu | null): ServerCpu | null {
  return a && b ? { ferretdbMs: a.ferretdbMs + b.ferretdbMs, postgresMs: a.postgresMs + b.postgresMs } : null;
}

/** Run `fn` and measure it. The /proc reads happen before and after the timed span, not in it. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; timing: Timed }> {
  const server0 = serverCpu();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const cpu = process.cpuUsage(cpu0);
  const server1 = serverCpu();
  return {
    value,
    timing: {
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      elu,
      server:
        server0 && server1
          ? {
              ferretdbMs: server1.ferretdbMs - server0.ferretdbMs,
              postgresMs: server1.postgresMs - server0.postgresMs,
            }
          : null,
    },
  };
}
