/**
 * Progress of an ingestion on the terminal: one bar per collection (batches done of planned),
 * drawn by cli-progress. Without a terminal (CI, a pipe) it prints one line per finished
 * collection instead, so logs stay readable.
 */
import cliProgress from "cli-progress";
import type { PlanOutput, WorkerEvent, WorkerOutput } from "../../pipeline/lambda/events.js";
import type { LocalFunctionHooks } from "../orchestration/local-functions.js";

interface Tally {
  planned: number;
  done: number;
  documents: number;
  bar?: cliProgress.SingleBar;
}

export interface IngestProgress extends LocalFunctionHooks {
  /** A line above the bars (or plain, without a terminal). */
  note(line: string): void;
  stop(): void;
}

export function ingestProgress(stream: NodeJS.WriteStream = process.stderr): IngestProgress {
  const tty = Boolean(stream.isTTY);
  const multi = tty
    ? new cliProgress.MultiBar(
        {
          stream,
          format: " {collection} |{bar}| {value}/{total} batches · {documents} documents · {pending}",
          hideCursor: true,
          clearOnComplete: false,
          autopadding: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const tallies = new Map<string, Tally>();
  const width = 22;
  return {
    onPlan(plan: PlanOutput) {
      for (const item of plan.items) {
        const t = tallies.get(item.collection) ?? { planned: 0, done: 0, documents: 0 };
        t.planned++;
        tallies.set(item.collection, t);
      }
      if (!tty)
        stream.write(`planned ${plan.items.length} batches over ${plan.devices} devices (${plan.mode})\n`);
      for (const [collection, t] of tallies)
        t.bar = multi?.create(t.planned, 0, {
          collection: collection.padEnd(width),
          documents: 0,
          pending: "",
        });
    },
    onWorkerDone(event: WorkerEvent, out: WorkerOutput) {
      const t = tallies.get(event.collection);
      if (!t) return;
      t.done++;
      t.documents += out.documentsRead;
      const pending = out.devicesPending ? `${out.devicesPending} devices left for the next run` : "";
      t.bar?.update(t.done, { documents: t.documents, pending });
      if (!tty && t.done === t.planned)
        stream.write(`  ${event.collection}: ${t.done} batches, ${t.documents} documents read\n`);
    },
    onWorkerFailed(event: WorkerEvent, error: Error) {
      const line = `  ${event.collection} batch ${event.batch}: ${error.message.split("\n")[0]}`;
      if (multi) multi.log(`${line}\n`);
      else stream.write(`${line}\n`);
    },
    note(line: string) {
      if (multi) multi.log(`${line}\n`);
      else stream.write(`${line}\n`);
    },
    stop() {
      multi?.stop();
    },
  };
}
