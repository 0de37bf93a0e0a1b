/**
 * Figures derived from the children's reports, shared by the ingestion bench's own printout and
 * the `npm run bench` summary (scripts/bench/summary/), so both say the same thing.
 */
import type { ReplayReport, ScalingReport } from "./reports.js";

const perSecond = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : Number.NaN);

/** The worker without the server: per wall second, and per CPU second (per core). */
export interface ReplayRates {
  readonly docsPerSecond: number;
  readonly rowsPerSecond: number;
  /** Documents per second of the process's CPU time (every thread): what one core sustains. */
  readonly docsPerCpuSecond: number;
  readonly rowsPerCpuSecond: number;
  /** Milliseconds of CPU per window: the per-window floor on sparse collections. */
  readonly cpuMsPerWindow: number;
}

export function replayRates(r: ReplayReport): ReplayRates {
  return {
    docsPerSecond: perSecond(r.documents, r.run.ms),
    rowsPerSecond: perSecond(r.rows, r.run.ms),
    docsPerCpuSecond: perSecond(r.documents, r.run.cpuMs),
    rowsPerCpuSecond: perSecond(r.rows, r.run.cpuMs),
    cpuMsPerWindow: r.windows > 0 ? r.run.cpuMs / r.windows : Number.NaN,
  };
}

export interface ScalingPoint {
  readonly factor: number;
  readonly windowMs: number;
  readonly windows: number;
  readonly docsPerWindow: number;
  readonly rowsPerWindow: number;
  /** CPU milliseconds per window (robust to other work sharing the cores, unlike wall time). */
  readonly cpuMsPerWindow: number;
  readonly wallMsPerWindow: number;
  readonly peakRssMiB: number;
}

export interface ScalingFigures {
  readonly points: readonly ScalingPoint[];
  /**
   * How per-window CPU time grows with the documents of a window, from the smallest window to the
   * largest: ln(t_last / t_first) / ln(d_last / d_first). 1 is linear; the target is ≤ 1.1. With
   * one window per device the ratio of documents is below 16 (a device's data is shorter than 16
   * base windows), so it is taken from the documents, not the nominal factor.
   */
  readonly exponent: number;
  /** The highest peak RSS of the three over the smallest window's: how far memory grew. */
  readonly rssRatio: number;
  readonly maxPeakRssMiB: number;
}

export function scalingFigures(s: ScalingReport): ScalingFigures {
  const points = s.runs.map((r) => ({
    factor: r.factor,
    windowMs: r.windowMs ?? Number.NaN,
    windows: r.windows,
    docsPerWindow: r.windows > 0 ? r.documents / r.windows : Number.NaN,
    rowsPerWindow: r.windows > 0 ? r.rows / r.windows : Number.NaN,
    cpuMsPerWindow: r.windows > 0 ? r.run.cpuMs / r.windows : Number.NaN,
    wallMsPerWindow: r.windows > 0 ? r.run.ms / r.windows : Number.NaN,
    peakRssMiB: r.peakRssMiB,
  }));
  const first = points[0];
  const last = points.at(-1);
  const exponent =
    first && last && last.docsPerWindow > first.docsPerWindow
      ? Math.log(last.cpuMsPerWindow / first.cpuMsPerWindow) /
        Math.log(last.docsPerWindow / first.docsPerWindow)
      : Number.NaN;
  return {
    points,
    exponent,
    rssRatio: first ? Math.max(...points.map((p) => p.peakRssMiB)) / first.peakRssMiB : Number.NaN,
    maxPeakRssMiB: Math.max(...points.map((p) => p.peakRssMiB)),
  };
}
