/**
 * Errors of the pipeline library. Every error is a {@link PipelineError} whose `name` is stable,
 * so Step Functions `Retry`/`Catch` can match on it, and whose `retryable` flag says whether
 * running the same input again can succeed.
 */

/** Context an error carries so a log line or a quarantine record names what failed. */
export interface ErrorContext {
  readonly collection?: string;
  readonly table?: string;
  readonly idDevice?: number;
  readonly documentId?: string;
  readonly field?: string;
  readonly runId?: string;
}

export abstract class PipelineError extends Error {
  abstract readonly retryable: boolean;
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }
}

/** A source document that cannot be coerced to its collection's schema: quarantine, never retry. */
export class DocumentValidationError extends PipelineError {
  readonly retryable = false;
  readonly issues: readonly DocumentIssue[];

  constructor(
    context: ErrorContext & { collection: string },
    issues: readonly DocumentIssue[],
    options?: { cause?: unknown },
  ) {
    const detail = issues.map((i) => `${i.field}: ${i.reason}`).join("; ");
    super(
      `${context.collection} document ${context.documentId ?? "<no _id>"} is invalid: ${detail}`,
      context,
      options,
    );
    this.issues = issues;
  }
}

/** One reason a document was refused, by source field name. */
export interface DocumentIssue {
  readonly field: string;
  readonly reason: string;
}

/** A zod type that has no lake column type: a schema bug, found at build or test time. */
export class UnsupportedTypeError extends PipelineError {
  readonly retryable = false;
}

/** A registry entry that contradicts itself (unknown key field, duplicate column, ...). */
export class RegistryError extends PipelineError {
  readonly retryable = false;
}

/** Configuration missing or malformed at the edge; names the key. */
export class ConfigError extends PipelineError {
  readonly retryable = false;
}
