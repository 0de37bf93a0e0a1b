/**
 * The one rule of what is transient (pipeline/errors.ts): the Lambda edge names a failure for
 * Step Functions' Retry by it, and the lake marks its errors retryable by it, so both agree.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ConfigError,
  DocumentValidationError,
  documentIdOf,
  isTransient,
  messageOf,
  TRANSIENT,
} from "../../pipeline/errors.js";
import { ObjectStoreUnavailableError, ParquetObjectWriteError } from "../../pipeline/lake/errors.js";
import { RETRYABLE_ERROR, TERMINAL_ERROR, toStepFunctionsError } from "../../pipeline/lambda/errors.js";

const withCode = (code: string, message = "failed") => Object.assign(new Error(message), { code });
const named = (name: string, message = "failed") => Object.assign(new Error(message), { name });

const zodError = (() => {
  const parsed = z.object({ timeout: z.number() }).safeParse({ timeout: "x" });
  return parsed.success ? undefined : parsed.error;
})();

describe("isTransient", () => {
  it.each<[string, unknown, boolean]>([
    // Node's codes, on `code` or in the message as Node writes them.
    ...TRANSIENT.codes.map((code): [string, unknown, boolean] => [`code ${code}`, withCode(code), true]),
    ["a code in the message", new Error("connect ECONNREFUSED 127.0.0.1:5432"), true],
    ["a code as part of another word", new Error("openFile EMFILEX failed"), false],
    // Names and messages.
    ["the AWS SDK's TimeoutError", named("TimeoutError"), true],
    ["S3's RequestTimeout", named("RequestTimeout"), true],
    ["AWS throttling", named("ThrottlingException"), true],
    ["S3's SlowDown", named("SlowDown"), true],
    ["node-postgres' connect timeout", new Error("timeout exceeded when trying to connect"), true],
    ["a dropped socket", new Error("socket hang up"), true],
    ["MongoDB network error", named("MongoNetworkError"), true],
    ["MongoDB network timeout", named("MongoNetworkTimeoutError"), true],
    ["MongoDB server selection", named("MongoServerSelectionError"), true],
    ["MongoDB failover", named("MongoNotPrimaryError"), true],
    // Causes.
    ["a transient cause", new Error("write failed", { cause: withCode("ECONNRESET") }), true],
    ["a terminal cause", new Error("write failed", { cause: new TypeError("x is undefined") }), false],
    // Terminal.
    ["a bug", new TypeError("x is undefined"), false],
    ["another MongoDB error", named("MongoServerError", "E11000 duplicate key"), false],
    ["access denied", withCode("EACCES"), false],
    ["a zod error, whatever its message says", zodError, false],
    ["a string", "ECONNRESET", false],
    ["null", null, false],
    // Our own errors say so themselves.
    ["a terminal PipelineError", new ConfigError("timeout is not set"), false],
    ["a retryable PipelineError", new ObjectStoreUnavailableError("throttled"), true],
  ])("%s → %s", (_what, error, transient) => {
    expect(isTransient(error)).toBe(transient);
  });

  it.each([
    ["transient", withCode("ETIMEDOUT"), RETRYABLE_ERROR, true],
    ["terminal", new TypeError("x is undefined"), TERMINAL_ERROR, false],
  ])("is the Lambda edge's and the lake's rule alike: %s", (_what, cause, name, retryable) => {
    expect(toStepFunctionsError(cause).name).toBe(name);
    expect(new ParquetObjectWriteError("write failed", { key: "k" }, { cause }).retryable).toBe(retryable);
  });
});

describe("messageOf and documentIdOf", () => {
  it("writes a thrown value as `Name: message`, anything else as text", () => {
    expect(messageOf(new TypeError("x is undefined"))).toBe("TypeError: x is undefined");
    expect(messageOf("plain")).toBe("plain");
  });

  it("reads a document's id as text: an ObjectId as hex, none as undefined", () => {
    expect(documentIdOf({ _id: { toHexString: () => "65f0c0ffee" } })).toBe("65f0c0ffee");
    expect(documentIdOf({ _id: 42 })).toBe("42");
    expect(documentIdOf({ _id: null })).toBeUndefined();
    expect(documentIdOf({})).toBeUndefined();
    expect(documentIdOf("not a document")).toBeUndefined();
    expect(
      new DocumentValidationError({ collection: "events", documentId: documentIdOf({ _id: 7 }) }, []).message,
    ).toMatch(/events document 7 is invalid/);
  });
});
