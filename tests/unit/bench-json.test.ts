/**
 * The JSON `npm run bench` writes (scripts/bench/summary/latest.ts) is what the cost model reads
 * (local/cost/bench.ts, docs/cost.md "Bench figures the model reads"): built here from the bench's
 * own types, read back by the model's reader. And the summary's verdicts: a figure beside its
 * target, what limits the ones that fall short. No timing: the figures are made up.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseBenchFigures } from "../../local/cost/bench.js";
import type { Timed } from "../../scripts/bench/ingest/measure.js";
import type {
  CollectionResult,
  IngestBenchJson,
  ReplayReport,
  ScalingReport,
} from "../../scripts/bench/ingest/reports.js";
import { buildLatest, type RunInfo, summaryRows } from "../../scripts/bench/summary/latest.js";
import { type CuratePart, type EncodersPart, readParts } from "../../scripts/bench/summary/parts.js";

const timed = (ms: number, cpuMs = ms): Timed => ({ ms, cpuMs, elu: 0.5, server: null });
const memory = { rss: 120, heapTotal: 40, heapUsed: 30, external: 60, arrayBuffers: 35 };

function replay(
  documents: number,
  rows: number,
  windows: number,
  cpuMs: number,
  peakRssMiB = 130,
): ReplayReport {
  return {
    windowMs: null,
    documents,
    rows,
    quarantined: 0,
    windows,
    objectBytes: rows * 10,
    run: timed(cpuMs * 1.2, cpuMs),
    recordingMiB: 1,
    answers: { recorded: windows * 3, split: 0 },
    setupRssMiB: 110,
    peakRssMiB,
    atPeak: memory,
  };
}

/** One collection's figures: `cursorMs` and `workerMs` set the worker/cursor ratio. */
function collectionResult(
  name: string,
  documents: number,
  windows: number,
  { cursorMs, workerMs, aloneCpuMs }: { cursorMs: number; workerMs: number; aloneCpuMs: number },
): CollectionResult {
  const rows = documents;
  const duckRun = { threads: 1, rows, ms: 10, fileBytes: 900 };
  return {
    name,
    cursor: {
      queries: windows * 3,
      windows,
      documents,
      decoded: timed(cursorMs, cursorMs / 4),
      peakRssMiB: 100,
    },
    worker: {
      documents,
      rows,
      quarantined: 0,
      windows,
      objectBytes: 12_000,
      complete: true,
      run: timed(workerMs, workerMs / 2),
      commitMs: 5,
      commitGroups: 2,
      setupRssMiB: 110,
      peakRssMiB: 140,
      atPeak: memory,
      maxOldSpaceMiB: 128,
    },
    stages: {
      documents,
      recording: { queries: windows * 3, bytes: 40_000 },
      bytes: 40_000,
      rows,
      windows,
      ms: { probe: 1, fetch: 1, decode: 1, extract: 1, write: 1, commit: 1, commitCpu: 1 },
      alone: { validate: 1, pivot: 0, encode: 1 },
      fetchServer: null,
      ndjsonBytes: 1,
      peakRssMiB: 150,
    },
    record: { queries: windows * 3, documents, windows, bytes: 40_000, ms: 100 },
    replay: replay(documents, rows, windows, aloneCpuMs),
    encode: { rows, parse: timed(1), total: timed(100), fileBytes: 1_000, peakRssMiB: 120 },
    duck: { version: "v1", json1: duckRun, jsonAll: duckRun, table1: duckRun, peakRssMiB: 90 },
    arrow: { version: "26", rows, ms: 1, fileBytes: 1_000 },
  };
}

const events = collectionResult("events", 20_000, 40, {
  cursorMs: 2_000,
  workerMs: 2_400,
  aloneCpuMs: 1_000,
});
const alarm = collectionResult("alarm", 500, 40, { cursorMs: 200, workerMs: 500, aloneCpuMs: 400 });

function scaling(peaks: [number, number, number], cpuMs: [number, number, number]): ScalingReport {
  const runs = ([1, 4, 16] as const).map((factor, i) => {
    const windows = 32 / factor;
    return {
      factor,
      ...replay(3_200, 240_000, windows, cpuMs[i] as number, peaks[i]),
      windowMs: factor * 86_400_000,
    };
  });
  return {
    name: "variable_logs",
    devices: 2,
    days: 240,
    baseWindowMs: 86_400_000,
    record: { queries: 10, documents: 3_200, windows: 2, bytes: 1, ms: 1 },
    runs,
  };
}

function ingest(collections: CollectionResult[], scalings: ScalingReport[] = []): IngestBenchJson {
  return {
    snapshot: { seed: 42, devices: 40, days: 20, loadMs: 1_000, documents: { events: 20_000, alarm: 500 } },
    node: "v24",
    cores: 2,
    loadBefore: [1, 1, 1],
    loadAfter: [1, 1, 1],
    wallMs: 1,
    workerNodeOptions: "--max-old-space-size=128",
    collections,
    scaling: scalings,
  };
}

const run: RunInfo = {
  date: "2026-11-30T00:00:00.000Z",
  commit: "abc",
  dirty: false,
  command: "npm run bench",
  quick: false,
  machine: { cores: 2, node: "v24", platform: "linux/x64", loadBefore: [1, 1, 1], loadAfter: [2, 2, 2] },
  wallSeconds: 600,
};

const row = (rows: ReturnType<typeof summaryRows>, figure: string) => {
  const found = rows.find((r) => r.figure.startsWith(figure));
  if (!found) throw new Error(`no summary row ${figure}: ${rows.map((r) => r.figure).join(" | ")}`);
  return found;
};

describe("latest.json and the cost model", () => {
  it("gives the model each shape's rate without the server (per CPU second), raw/source and bytes/doc", () => {
    const text = JSON.stringify(buildLatest({ ingest: ingest([events, alarm]) }, run));
    const figures = parseBenchFigures(text, "latest.json");
    expect(figures.skipped).toEqual([]);
    expect(figures.shapes.events).toEqual({
      docsPerSecond: 20_000, // 20,000 documents in 1,000 ms of CPU
      rateKind: "without-server",
      rawOverSource: 12_000 / 40_000,
      bytesPerDoc: 40_000 / 20_000,
    });
    expect(figures.shapes.alarm?.docsPerSecond).toBe(1_250);
  });

  it("leaves the rate out when the replay measured none, so the model falls back to the worker's", () => {
    const idle = { ...events, replay: { ...events.replay, run: timed(0, 0) } };
    const latest = buildLatest({ ingest: ingest([idle]) }, run);
    expect(latest.ingest?.collections[0]).not.toHaveProperty("workerWithoutServerDocsPerSecond");
    const figures = parseBenchFigures(JSON.stringify(latest), "latest.json");
    expect(figures.skipped).toEqual([]);
    expect(figures.shapes.events).toMatchObject({ rateKind: "worker", docsPerSecond: 20_000 / 2.4 });
  });

  it("keeps the run's machine, date and commit, and the summary rows", () => {
    const latest = JSON.parse(JSON.stringify(buildLatest({ ingest: ingest([events]) }, run)));
    expect(latest).toMatchObject({ version: 1, commit: "abc", machine: { cores: 2, loadAfter: [2, 2, 2] } });
    expect(latest.summary.length).toBeGreaterThan(0);
  });
});

describe("summary rows", () => {
  it("judges worker/cursor against 0.8 and says what limits a sparse collection", () => {
    const rows = summaryRows({ ingest: ingest([events, alarm]) });
    expect(row(rows, "worker / bare cursor, events")).toMatchObject({ measured: "0.83", verdict: "meets" });
    const sparse = row(rows, "worker / bare cursor, alarm");
    expect(sparse).toMatchObject({ measured: "0.40", verdict: "short" });
    expect(sparse.limits).toMatch(
      /the worker 12\.5 ms a window, the cursor 5\.0; of the worker's, its own CPU 10\.0 ms/,
    );
  });

  it("computes the scaling exponent from per-window documents and CPU, and judges RSS flat", () => {
    // Per window: 100 → 400 → 1,600 documents, 10 → 40 → 160 ms: linear.
    const linear = scaling([150, 152, 151], [320, 320, 320]);
    const rows = summaryRows({ ingest: ingest([], [linear]) });
    expect(row(rows, "worker time at 1×, 4×, 16× window, variable_logs")).toMatchObject({ verdict: "meets" });
    expect(row(rows, "worker time at 1×, 4×, 16× window, variable_logs").measured).toMatch(/exponent 1\.00$/);
    expect(row(rows, "worker peak RSS at 1×, 4×, 16× window, variable_logs")).toMatchObject({
      verdict: "meets",
    });

    const growing = scaling([150, 200, 240], [320, 640, 1_280]);
    const worse = summaryRows({ ingest: ingest([], [growing]) });
    expect(row(worse, "worker time at 1×, 4×, 16× window").measured).toMatch(
      /10\.0 → 80\.0 → 640\.0 ms CPU a window at 100 → 400 → 1,600 docs: exponent 1\.50$/,
    );
    expect(row(worse, "worker time at 1×, 4×, 16× window").verdict).toBe("short");
    expect(row(worse, "worker peak RSS at 1×, 4×, 16× window")).toMatchObject({ verdict: "short" });
  });

  it("takes the encode figures from the encoder bench's file when there is one (CPU time)", () => {
    const encoders: EncodersPart = {
      finished: "2026-11-30",
      summary: [
        { shape: "events", encoder: "parquetjs", rows: 1_000, rowsPerS: 10, rowsPerCpuS: 20 },
        { shape: "events", encoder: "parquet-wasm", rows: 1_000, rowsPerS: 50, rowsPerCpuS: 70 },
        { shape: "events", encoder: "duckdb", rows: 1_000, rowsPerS: 100, rowsPerCpuS: 100 },
      ],
    };
    const rows = summaryRows({ ingest: ingest([events]), encoders });
    const encode = row(rows, "encode parquetjs / DuckDB, events");
    expect(encode).toMatchObject({ verdict: "short" });
    expect(encode.measured).toMatch(/^0\.20 /);
    expect(encode.limits).toMatch(/Best candidate measured: parquet-wasm 0\.70/);
    // Without the file, the ingest bench's own: 1,000 rows in 100 ms against DuckDB's 10 ms.
    expect(row(summaryRows({ ingest: ingest([events]) }), "encode").measured).toMatch(/^0\.10 /);
  });

  it("gives curate and reconcile exponents and the Alarms report ratios against their targets", () => {
    const small = {
      devices: 15,
      days: 30,
      collections: null,
      curate: { seconds: 20, commits: 13, rows: 1, objects: 100, rawFiles: 100, rawBytes: 1 },
      reconcile: {
        full: { mode: "full", seconds: 10, deviceDays: 100, queries: 1, differences: 0 },
        auto: [],
      },
    };
    const way = (seconds: number) => ({ label: "x", seconds, sparkJobs: 4 });
    const curate: CuratePart = {
      ...small,
      devices: 60,
      curate: { ...small.curate, seconds: 40, objects: 400 },
      reconcile: { full: { ...small.reconcile.full, seconds: 80, deviceDays: 400 }, auto: [] },
      scaling: { factor: 4, small },
      alarms: {
        alarms: 1_000,
        resets: 900,
        dailyRows: 100,
        runs: 3,
        agree: true,
        loadAverage: 1,
        ways: { curated: way(0.5), raw: way(2), oldWay: way(1), served: way(0.1) },
      },
    };
    const rows = summaryRows({ curate });
    expect(row(rows, "curate time at 1× and 4× data")).toMatchObject({ verdict: "meets" });
    expect(row(rows, "curate time at 1× and 4× data").measured).toMatch(/exponent 0\.50$/);
    expect(row(rows, "reconcile time (full pass) at 1× and 4× data")).toMatchObject({ verdict: "short" });
    expect(row(rows, "Alarms report: curated vs raw Parquet")).toMatchObject({ verdict: "meets" });
    const old = row(rows, "Alarms report: curated vs the old way");
    expect(old).toMatchObject({ verdict: "short" });
    // 1 ms per alarm, a 0.5 s query: 20× needs 10,000 alarms.
    expect(old.limits).toMatch(/≳ 10,000 alarms/);
  });
});

describe("readParts", () => {
  it("names a part in another shape instead of misreading it, and keeps the readable ones", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bench-parts-"));
    try {
      await writeFile(join(dir, "curate.json"), JSON.stringify({ devices: 1 }));
      await writeFile(join(dir, "ingest.json"), JSON.stringify(ingest([events])));
      const read = readParts({
        ingest: join(dir, "ingest.json"),
        curate: join(dir, "curate.json"),
        postgresExtract: join(dir, "none.json"),
      });
      expect(read.parts.ingest?.collections).toHaveLength(1);
      expect(read.parts.curate).toBeUndefined();
      expect(read.problems).toEqual([
        expect.stringMatching(/^postgresExtract: no .*none\.json/),
        expect.stringMatching(/^curate: .* in another shape \(days: /),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
