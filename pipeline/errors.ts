/**
 * Errors of the pipeline library. Every error is a {@link PipelineError} whose `name` is stable,
 * so Step Functions `Retry`/`Catch` can match on it, and whose `retryable` flag says whether
 * running the same input again can succeed. Errors of the libraries below (drivers, AWS SDK, the
 * file system) are judged by {@link isTransient}, the one rule for every layer.
 */
import { ZodError } from "zod";

/** Context an error carries so a log line or a quarantine record names what failed. */
export interface ErrorContext {
  readonly collection?: string;
  readonly table?: string;
  readonly idDevice?: number;
  readonly documentId?: string;
  readonly field?: string;
  readonly runId?: string;
}

/**
 * A source document's id as text (an ObjectId as its hex string), for error contexts, quarantine
 * records and keys; undefined when the document has none.
 */
export function documentIdOf(doc: unknown): string | undefined {
  if (typeof doc !== "object" || doc === null) return undefined;
  const id = (doc as { _id?: unknown })._id;
  if (id === undefined || id === null) return undefined;
  if (typeof id === "object" && "toHexString" in id) return (id as { toHexString(): string }).toHexString();
  return String(id);
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

/**
 * What marks a failure of a library below us as transient: the same call can succeed later. One
 * list for the Lambda edge (which error name Step Functions retries) and the lake (which store
 * error is `retryable`).
 */
export const TRANSIENT = {
  /**
   * Node's `code`s of a connection that failed or dropped, and of file-system conditions that
   * clear by themselves (too many open files, a busy resource). Matched on `code`, and as a word
   * of the message, where Node also puts them (`connect ECONNREFUSED 127.0.0.1:5432`).
   */
  codes: [
    "ECONNRESET",
    "ECONNREFUSED",
    "ECONNABORTED",
    "ETIMEDOUT",
    "EPIPE",
    "ENOTFOUND",
    "EAI_AGAIN",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "ENETDOWN",
    "UND_ERR_SOCKET",
    "UND_ERR_CONNECT_TIMEOUT",
    "EMFILE",
    "ENFILE",
    "EBUSY",
    "EAGAIN",
  ],
  /**
   * Names and messages: timeouts (the AWS SDK's `TimeoutError`, `RequestTimeout`, node-postgres'
   * "timeout exceeded when trying to connect"), a dropped socket, AWS throttling (`Throttling`,
   * S3's `SlowDown`), and the MongoDB driver's network, server selection and failover errors.
   */
  text: /timeout|socket hang up|throttling|slowdown|^Mongo(?:Network|ServerSelection|NotPrimary)/i,
} as const;

const TRANSIENT_CODES: ReadonlySet<string> = new Set(TRANSIENT.codes);
const TRANSIENT_CODE_WORD = new RegExp(`\\b(?:${TRANSIENT.codes.join("|")})\\b`);

/**
 * Whether running the same input again can succeed: a {@link PipelineError} says so itself, a
 * {@link ZodError} never (bad data stays bad), otherwise the error or one of its causes must show
 * a {@link TRANSIENT} mark. Everything else is terminal: a bug or bad data is not fixed by retrying.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof PipelineError) return error.retryable;
  if (error instanceof ZodError) return false;
  if (typeof error !== "object" || error === null) return false;
  const { code, name, message, cause } = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
  };
  if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
  if (typeof name === "string" && TRANSIENT.text.test(name)) return true;
  if (typeof message === "string" && (TRANSIENT.text.test(message) || TRANSIENT_CODE_WORD.test(message)))
    return true;
  return cause !== undefined && cause !== error && isTransient(cause);
}

/** Message of any thrown value, for error messages that wrap it: `Name: message`. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
