/**
 * Errors of the snapshot generator. They extend the library's {@link PipelineError}, so logs and
 * the CLI treat them like any other pipeline error.
 */
import { PipelineError } from "../../pipeline/errors.js";

/**
 * The databases are not in a state the command can work from: `advance` before any `load`, or
 * `load` over a snapshot made with other settings (without `--reset`). Re-running will not help.
 */
export class SnapshotStateError extends PipelineError {
  readonly retryable = false;
}
