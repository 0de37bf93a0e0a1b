/**
 * How a function's failure reaches Step Functions. Retry and Catch match on the error's name, so
 * every failure leaves a function as one of two names, decided by the error's `retryable` flag;
 * the original name and message travel in the message (the execution history shows both).
 */
import { ZodError } from "zod";
import { PipelineError } from "../errors.js";

/** Names the state machine's Retry lists. */
export const RETRYABLE_ERROR = "RetryableError";
export const TERMINAL_ERROR = "TerminalError";

/** An event that does not match its schema: a bug in the state machine, never retried. */
export class InvalidEventError extends PipelineError {
  readonly retryable = false;
}

/** Errors from the libraries below us that a retry can cure (network, throttling, failover). */
const TRANSIENT =
  /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|socket hang up|Throttling|SlowDown|timeout/i;

export function isRetryable(error: unknown): boolean {
  if (error instanceof PipelineError) return error.retryable;
  if (error instanceof ZodError) return false;
  if (error instanceof Error) {
    const name = error.name;
    if (/^Mongo(Network|ServerSelection|NotPrimary)/.test(name)) return true;
    return TRANSIENT.test(`${name} ${error.message} ${(error as { code?: string }).code ?? ""}`);
  }
  return false;
}

export function toStepFunctionsError(error: unknown): Error {
  const inner = error instanceof Error ? error : new Error(String(error));
  const wrapped = new Error(`${inner.name}: ${inner.message}`, { cause: inner });
  wrapped.name = isRetryable(error) ? RETRYABLE_ERROR : TERMINAL_ERROR;
  return wrapped;
}
