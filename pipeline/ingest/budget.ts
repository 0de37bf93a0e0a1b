/**
 * Time budget of a worker run. A window is only started while more than the safety margin is
 * left, so a run stops cleanly between windows and the next run resumes at the bookmark.
 */

export interface Budget {
  /** Milliseconds left before the run is killed (Lambda: `context.getRemainingTimeInMillis()`). */
  remainingMs(): number;
}

/** The seed's split of Lambda's 15 minutes: start no window in the last 5. */
export const DEFAULT_SAFETY_MARGIN_MS = 5 * 60_000;

export function deadlineBudget(deadline: number, now: () => number = Date.now): Budget {
  return { remainingMs: () => deadline - now() };
}

export function lambdaBudget(context: { getRemainingTimeInMillis(): number }): Budget {
  return { remainingMs: () => context.getRemainingTimeInMillis() };
}

/** No deadline: local runs and tests that want the whole backlog in one run. */
export const UNLIMITED: Budget = { remainingMs: () => Number.POSITIVE_INFINITY };
