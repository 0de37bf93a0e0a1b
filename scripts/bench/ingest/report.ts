/**
 * What the parent prints: the summary table (the README's benchmark table quotes its figures),
 * a few lines of detail per collection, and what limits the worker.
 */
import { availableParallelism } from "node:os";
import { TARGETS } from "../targets.js";
import { MiB } from "./context.js";
import { ROW_GROUP } from "./duckdb.js";
import { replayRates, scalingFigures } from "./figures.js";
import type { Timed } from "./measure.js";
import type { CollectionResult, ScalingReport } from "./reports.js";

/** The targets this printout judges by (the summary's too). */
const TARGET = TARGETS;

const CORES = availableParallelism();

const rate = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : Number.NaN);
const pct = (part: number, whole: number) => `${Math.round((100 * part) / whole)}%`;

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "-";

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows
    .map((r) =>
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
    )
    .join("\n");
}

export function summary(results: readonly CollectionResult[]): string {
  const head = [
    "collection",
    "documents",
    "rows",
    "cursor docs/s",
    "worker docs/s",
    "worker/cursor",
    "worker peak RSS MiB",
    "alone docs/CPU-s",
    "our encode rows/s",
    "DuckDB rows/s",
    "ours/DuckDB",
  ];
  const body = results.map((r) => {
    const cursorRate = rate(r.cursor.documents, r.cursor.decoded.ms);
    const workerRate = rate(r.worker.documents, r.worker.run.ms);
    const ours = rate(r.encode.rows, r.encode.total.ms);
    const duck = rate(r.duck.json1.rows, r.duck.json1.ms);
    const ratio = workerRate / cursorRate;
    return [
      r.name,
      fmt(r.worker.documents),
      fmt(r.worker.rows),
      fmt(cursorRate),
      fmt(workerRate),
      `${fmt(ratio, 2)} ${ratio >= TARGET.workerOverCursor ? "ok" : "LOW"}`,
      `${fmt(r.worker.peakRssMiB, 1)} ${r.worker.peakRssMiB < TARGET.peakRssMiB ? "ok" : "HIGH"}`,
      fmt(replayRates(r.replay).docsPerCpuSecond),
      fmt(ours),
      fmt(duck),
      fmt(ours / duck, 2),
    ];
  });
  return table([head, ...body]);
}

/** The line under the table: what the columns compare. */
export function legend(): string {
  return (
    `targets: worker/cursor ≥ ${TARGET.workerOverCursor}, worker peak RSS < ${TARGET.peakRssMiB} MiB. ` +
    "cursor = the worker's queries with nothing done per document; alone = the worker fed the " +
    "cursor's answers from memory (no server), documents per CPU second; DuckDB = read_json → Parquet " +
    `(snappy, ${fmt(ROW_GROUP)}-row groups) on 1 thread, ours = the same NDJSON through writeParquetObject`
  );
}

/** CPU of Node, FerretDB and PostgreSQL together, as a share of every core of the machine. */
const boxShare = (t: Timed) =>
  t.server ? (t.cpuMs + t.server.ferretdbMs + t.server.postgresMs) / (CORES * t.ms) : Number.NaN;

function cpuLine(t: Timed): string {
  const server = t.server
    ? `FerretDB ${pct(t.server.ferretdbMs, t.ms)}, PostgreSQL ${pct(t.server.postgresMs, t.ms)} of a core, ` +
      `all three ${pct(boxShare(t), 1)} of ${CORES} cores`
    : "server CPU n/a";
  return `event loop ${pct(t.elu, 1)} busy, Node CPU ${pct(t.cpuMs, t.ms)}, ${server}`;
}

export function details(r: CollectionResult): string {
  const c = r.cursor;
  const w = r.worker;
  const s = r.stages;
  const e = r.encode;
  const d = r.duck;
  const mb = (ms: number) => fmt(rate(s.bytes / 1e6, ms), 2);
  const pureOurs = rate(s.rows, s.alone.encode);
  const pureDuck = rate(d.table1.rows, d.table1.ms);
  return [
    `${r.name}: ${fmt(w.documents)} documents, ${fmt(s.bytes / MiB, 1)} MiB of BSON (${fmt(s.bytes / w.documents)} B/doc), ` +
      `${w.windows} windows, ${c.queries} queries; ${fmt(w.rows)} rows, ${fmt(w.objectBytes / MiB, 1)} MiB of Parquet`,
    `  cursor   ${fmt(rate(c.documents, c.decoded.ms))} docs/s, ${mb(c.decoded.ms)} MB/s, ${fmt(c.decoded.ms / 1000, 1)} s; ${cpuLine(c.decoded)}`,
    `  worker   ${fmt(rate(w.documents, w.run.ms))} docs/s, ${fmt(rate(w.rows, w.run.ms))} rows/s, ${mb(w.run.ms)} MB/s, ${fmt(w.run.ms / 1000, 1)} s; ${cpuLine(w.run)}`,
    `           RSS ${fmt(w.setupRssMiB)} MiB after setup, ${fmt(w.peakRssMiB, 1)} MiB peak` +
      `${w.maxOldSpaceMiB ? ` (--max-old-space-size=${w.maxOldSpaceMiB})` : ""}; at the peak sample (${fmt(w.atPeak.rss)} MiB): V8 heap ` +
      `${fmt(w.atPeak.heapTotal)} MiB (${fmt(w.atPeak.heapUsed)} used), external ${fmt(w.atPeak.external)} ` +
      `(ArrayBuffers ${fmt(w.atPeak.arrayBuffers)}); ${w.windows} windows committed in ${w.commitGroups} groups, ` +
      `${fmt(w.commitMs / Math.max(1, w.commitGroups), 1)} ms each; JS-thread capacity ${fmt(rate(w.documents, w.run.ms * w.run.elu))} docs/s` +
      `${w.quarantined ? `; ${w.quarantined} quarantined` : ""}${w.complete ? "" : "; INCOMPLETE"}`,
    replayLine(r),
    `  stages   one device at a time: probes ${fmt(s.ms.probe)} ms, fetch ${fmt(s.ms.fetch)} (raw cursor${
      s.fetchServer
        ? `; FerretDB ${pct(s.fetchServer.ferretdbMs, s.ms.probe + s.ms.fetch)} of a core during both`
        : ""
    }), BSON decode ${fmt(s.ms.decode)}, extractWindow ${fmt(s.ms.extract)} (alone: validate ${fmt(s.alone.validate)}, ` +
      `pivot ${fmt(s.alone.pivot)}, encode ${fmt(s.alone.encode)}), write ${fmt(s.ms.write)}, commit ${fmt(s.ms.commit)} ` +
      `(${fmt(s.ms.commit / Math.max(1, s.windows), 1)} ms each, Node CPU ${pct(s.ms.commitCpu, s.ms.commit)} of it)`,
    `  encode   ours: NDJSON → writeParquetObject ${fmt(rate(e.rows, e.total.ms))} rows/s (NDJSON parse alone ${fmt(rate(e.rows, e.parse.ms))} rows/s; ` +
      `${fmt(e.fileBytes / MiB, 1)} MiB; peak RSS ${fmt(e.peakRssMiB, 1)} MiB), rows in memory → one object per window ${fmt(pureOurs)} rows/s`,
    `  DuckDB   ${d.version}: read_json → Parquet ${fmt(rate(d.json1.rows, d.json1.ms))} rows/s on 1 thread, ` +
      `${fmt(rate(d.jsonAll.rows, d.jsonAll.ms))} on ${d.jsonAll.threads}; table → Parquet ${fmt(pureDuck)} rows/s on 1 thread ` +
      `(ours in memory / DuckDB table: ${fmt(pureOurs / pureDuck, 3)}); ${fmt(d.json1.fileBytes / MiB, 1)} MiB`,
    `  bytes    pyarrow ${r.arrow.version} + SNAPPY, same rows and row groups: ${fmt(r.arrow.fileBytes / MiB, 2)} MiB; ` +
      `ours ${fmt(e.fileBytes / MiB, 2)} MiB = ${fmt(e.fileBytes / r.arrow.fileBytes, 2)}x pyarrow (target <= ${TARGET.bytesOverPyarrow})`,
  ].join("\n");
}

/** The worker without the server: the recording, then the replay's rates and memory. */
function replayLine(r: CollectionResult): string {
  const p = r.replay;
  const rates = replayRates(p);
  return (
    `  alone    ${fmt(r.record.queries)} queries recorded by the stages run (${fmt(r.record.bytes / MiB, 1)} MiB of BSON); ` +
    `replayed from memory: ${fmt(rates.docsPerSecond)} docs/s, ${fmt(rates.rowsPerSecond)} rows/s wall; per CPU second ` +
    `${fmt(rates.docsPerCpuSecond)} docs, ${fmt(rates.rowsPerCpuSecond)} rows (${fmt(rates.cpuMsPerWindow, 1)} ms of CPU a window); ` +
    `${fmt(p.run.ms / 1000, 1)} s, Node CPU ${pct(p.run.cpuMs, p.run.ms)}, event loop ${pct(p.run.elu, 1)} busy; ` +
    `RSS ${fmt(p.setupRssMiB)} MiB with the recording loaded, ${fmt(p.peakRssMiB, 1)} MiB peak ` +
    `(V8 heap ${fmt(p.atPeak.heapTotal)}, external ${fmt(p.atPeak.external)} at the peak sample); ` +
    `no MongoDB, ledger in memory, folder store; worker/alone ${fmt(rate(r.worker.documents, r.worker.run.ms) / rates.docsPerSecond, 2)}`
  );
}

/** Per-window CPU time and peak RSS at 1×, 4× and 16× the base window, and the time exponent. */
export function scalingLine(s: ScalingReport): string {
  const f = scalingFigures(s);
  const points = f.points
    .map(
      (p) =>
        `${p.factor}x (${fmt(p.windowMs / 3_600_000)} h): ${fmt(p.windows)} windows of ${fmt(p.docsPerWindow)} docs ` +
        `(${fmt(p.rowsPerWindow)} rows), ${fmt(p.cpuMsPerWindow, 1)} ms CPU each, peak RSS ${fmt(p.peakRssMiB, 1)} MiB`,
    )
    .join("; ");
  return (
    `  ${s.name}: recorded ${fmt(s.record.documents)} documents (${fmt(s.record.bytes / MiB, 1)} MiB) at 16x; ${points}; time exponent ${fmt(f.exponent, 2)} (target <= ${TARGET.timeExponent}), ` +
    `peak RSS at most ${fmt(f.rssRatio, 2)}x the 1x run's (target flat, < ${TARGET.peakRssMiB} MiB)`
  );
}

/** One line on what bounds the worker, read off the measurements. */
export function limits(r: CollectionResult): string {
  const s = r.stages;
  const w = r.worker.run;
  const parts: [string, number][] = [
    ["first-pass probes (edges of the device; untimed scan if one is untimed)", s.ms.probe],
    ["window fetch (FerretDB + wire)", s.ms.fetch],
    ["BSON decode", s.ms.decode],
    ["extractWindow (validate, pivot, Parquet encode)", s.ms.extract],
    ["file write", s.ms.write],
    ["ledger commits", s.ms.commit],
  ];
  const serial = parts.reduce((sum, [, ms]) => sum + ms, 0);
  const shares = (list: [string, number][], whole: number) =>
    list
      .filter(([, ms]) => ms >= 0.01 * whole)
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => `${name} ${pct(ms, whole)}`)
      .join(", ");
  const split = shares(parts, serial);
  const pieces = shares(
    [
      ["encode", s.alone.encode],
      ["validate", s.alone.validate],
      ["pivot", s.alone.pivot],
    ],
    s.ms.extract,
  );
  const box = boxShare(w);
  const cpu = (ms: number | undefined) => pct(ms ?? 0, w.ms);
  // The event loop counts as busy while its thread waits for a core: with other work on the
  // machine, a busy loop that got little CPU was starved, not saturated.
  const starved = w.elu >= 0.85 && w.cpuMs < 0.6 * w.elu * w.ms;
  const verdict = starved
    ? `other work held the cores (event loop ${pct(w.elu, 1)} busy, yet Node ran ${cpu(w.cpuMs)} of the time): ` +
      "the wall-clock rates understate the worker; the CPU-time figures (alone docs/CPU-s) do not"
    : w.elu >= 0.85
      ? `Node's one JS thread is saturated (event loop ${pct(w.elu, 1)} busy; Node CPU ${cpu(w.cpuMs)}, ` +
        `FerretDB ${cpu(w.server?.ferretdbMs)} of a core)`
      : box >= 0.85
        ? `the ${CORES} cores are saturated (${pct(box, 1)}: Node ${cpu(w.cpuMs)}, FerretDB ${cpu(w.server?.ferretdbMs)}, ` +
          `PostgreSQL ${cpu(w.server?.postgresMs)} of a core; event loop ${pct(w.elu, 1)} busy), so the worker's CPU comes out of FerretDB's`
        : `neither the cores (${Number.isFinite(box) ? pct(box, 1) : "n/a"}) nor the JS thread (event loop ${pct(w.elu, 1)}) ` +
          "is saturated: latency bound (round trips, per-window commits)";
  return (
    `${r.name}: ${verdict}; serial split ${split} (alone, as shares of extractWindow: ${pieces || "-"}); ` +
    `worker wall = ${fmt(w.ms / serial, 2)} × the serial sum`
  );
}
