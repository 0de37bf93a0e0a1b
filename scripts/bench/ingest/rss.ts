/**
 * Resident memory of a child process. Peak RSS comes from the kernel (`maxRSS`), so it is the
 * process's whole life: each measurement runs in its own child for that reason.
 */
import { MiB } from "./context.js";

/** `process.memoryUsage()` in MiB. */
export interface MemorySample {
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** Highest RSS of this process so far, in MiB (`maxRSS` is in kibibytes on Linux and macOS). */
export const peakRssMiB = (): number => (process.resourceUsage().maxRSS * 1024) / MiB;

export const rssMiB = (): number => process.memoryUsage().rss / MiB;

/**
 * Sample `process.memoryUsage()` every `intervalMs` until stopped, keeping the sample with the
 * highest RSS: what the heap and the buffers held when the process was at its largest.
 */
export function sampleMemory(intervalMs = 50): { stop(): void; atPeak(): MemorySample } {
  let peak = process.memoryUsage();
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak.rss) peak = m;
  }, intervalMs);
  return {
    stop: () => clearInterval(timer),
    atPeak: () => ({
      rss: peak.rss / MiB,
      heapTotal: peak.heapTotal / MiB,
      heapUsed: peak.heapUsed / MiB,
      external: peak.external / MiB,
      arrayBuffers: peak.arrayBuffers / MiB,
    }),
  };
}
