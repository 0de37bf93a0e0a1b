/**
 * How a function's failure reaches Step Functions. Retry and Catch match on the error's name, so
 * every failure leaves a function as one of two names, decided by {@link isTransient} (the
 * pipeline's one rule, also the lake's); the original name and message travel in the message (the
 * execution history shows both).
 */
import { isTransient, messageOf, PipelineError } from "../errors.js";

/** Names the state machine's Retry lists. */
export const RETRYABLE_ERROR = "RetryableError";
export const TERMINAL_ERROR = "TerminalError";

/** An event that does not match its schema: a bug in the state machine, never retried. */
export class InvalidEventError extends PipelineError {
  readonly retryable = false;
}

export function toStepFunctionsError(error: unknown): Error {
  const inner = error instanceof Error ? error : new Error(String(error));
  const wrapped = new Error(messageOf(inner), { cause: inner });
  wrapped.name = isTransient(error) ? RETRYABLE_ERROR : TERMINAL_ERROR;
  return wrapped;
}
