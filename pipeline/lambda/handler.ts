/**
 * The Lambda edge around a {@link Step}: validate the event with the step's zod schema, give the
 * step a logger, a metrics record and the time budget of the invocation, and turn any failure
 * into the error names the state machine retries or catches. The runtime (connections) is opened
 * on first use and kept for the container's later invocations, refreshed at the start of each.
 */
import type { MetricsLogger } from "aws-embedded-metrics";
import pino, { type Logger } from "pino";
import type { z } from "zod";
import { lambdaBudget } from "../ingest/budget.js";
import { InvalidEventError, toStepFunctionsError } from "./errors.js";
import { lambdaMetrics, METRIC_NAMESPACE, type MetricsFactory } from "./metrics.js";
import { openRuntime, type Runtime } from "./runtime.js";
import type { Step } from "./steps.js";

/** The part of Lambda's context object the steps use; the local runner supplies its own. */
export interface InvocationContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export interface HandlerDeps {
  readonly runtime: () => Runtime;
  readonly metrics: MetricsFactory;
  readonly log: Logger;
}

export type Handler<O> = (event: unknown, context: InvocationContext) => Promise<O>;

export function defineHandler<S extends z.ZodType, O>(step: Step<S, O>, deps: HandlerDeps): Handler<O> {
  return async (event, context) => {
    const log = deps.log.child({ step: step.name, requestId: context.awsRequestId });
    const metrics: MetricsLogger = deps.metrics();
    metrics.setNamespace(METRIC_NAMESPACE);
    metrics.setProperty("RequestId", context.awsRequestId);
    const started = performance.now();
    try {
      const parsed = step.schema.safeParse(event);
      if (!parsed.success) {
        const detail = parsed.error.issues
          .map((i) => `${i.path.join(".") || "(event)"} ${i.message}`)
          .join("; ");
        throw new InvalidEventError(`${step.name} event: ${detail}`);
      }
      const runtime = deps.runtime();
      // A cutover switches the sources by a new secret version: a warm container checks each
      // invocation (one GetSecretValue per open source) rather than read on from the old one.
      await runtime.refresh();
      return await step.run(runtime, parsed.data, {
        requestId: context.awsRequestId,
        budget: lambdaBudget(context),
        log,
        metrics,
      });
    } catch (error) {
      log.error({ err: error }, `${step.name} failed`);
      throw toStepFunctionsError(error);
    } finally {
      metrics.setProperty("DurationMs", Math.round(performance.now() - started));
      await metrics.flush().catch((error: unknown) => log.warn({ err: error }, "metrics not flushed"));
    }
  };
}

/** A handler for the Lambda runtime: JSON logs to stdout, EMF metrics, connections from secrets. */
export function lambdaHandler<S extends z.ZodType, O>(step: Step<S, O>): Handler<O> {
  const log = pino({
    level: process.env.LOG_LEVEL ?? "info",
    base: { fn: process.env.AWS_LAMBDA_FUNCTION_NAME },
  });
  let runtime: Runtime | undefined;
  return defineHandler(step, {
    runtime: () => {
      runtime ??= openRuntime(process.env, log);
      return runtime;
    },
    metrics: lambdaMetrics,
    log,
  });
}
