/** Errors of the cost model's inputs: the CLI prints them in one line (local/cli/failures.ts). */
import { PipelineError } from "../../pipeline/errors.js";

/** A stack file, a bench file or a region the model cannot read; running again will not help. */
export class CostInputError extends PipelineError {
  readonly retryable = false;
}
