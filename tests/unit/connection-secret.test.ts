/** Connection secrets: parsing (aliases, defaults, errors that never show values) and URLs. */
import { describe, expect, it } from "vitest";
import {
  connectionUrl,
  describeConnection,
  jdbcUrl,
  parseConnectionSecret,
  requiresTls,
  secretFromUrl,
} from "../../pipeline/connections/secret.js";
import { SecretUnavailableError } from "../../pipeline/connections/secrets-manager.js";
import { ConfigError, DocumentValidationError, isTransient as isRetryable } from "../../pipeline/errors.js";
import { toStepFunctionsError } from "../../pipeline/lambda/errors.js";

describe("connection secrets", () => {
  it("accepts the AWS field names and the database/user aliases alike", () => {
    const aws = parseConnectionSecret(
      "s",
      JSON.stringify({
        engine: "postgres",
        host: "db",
        port: 5432,
        dbname: "ddc",
        username: "u",
        password: "p",
      }),
    );
    const alias = parseConnectionSecret(
      "s",
      JSON.stringify({
        engine: "postgres",
        host: "db",
        port: "5432",
        database: "ddc",
        user: "u",
        password: "p",
      }),
    );
    expect(alias).toEqual(aws);
    expect(connectionUrl(aws)).toBe("postgres://u:p@db:5432/ddc");
  });

  it("fills what an RDS-managed secret lacks from the deployment's defaults; the secret wins", () => {
    const s = parseConnectionSecret("rds!db-1", JSON.stringify({ username: "master", password: "x" }), {
      engine: "postgres",
      host: "support.rds.local",
      port: "5432",
      dbname: "support",
      username: "ignored",
    });
    expect(s).toMatchObject({ host: "support.rds.local", port: 5432, dbname: "support", username: "master" });
  });

  it("names the secret and every bad field, never a value", () => {
    const parse = () =>
      parseConnectionSecret("prod/ddc", JSON.stringify({ engine: "oracle", port: 0, password: "hunter2" }));
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/prod\/ddc: .*engine.*host.*port.*dbname/);
    try {
      parse();
    } catch (error) {
      expect(String(error)).not.toContain("hunter2");
    }
    expect(() => parseConnectionSecret("x", "not json")).toThrow("secret x is not JSON");
    expect(() => parseConnectionSecret("x", "[1]")).toThrow("must be a JSON object");
  });

  it("percent-encodes credentials and keeps options as URL parameters", () => {
    const s = parseConnectionSecret(
      "m",
      JSON.stringify({
        engine: "mongodb",
        host: "h",
        port: 27017,
        dbname: "iot",
        username: "a@b",
        password: "p:w/d",
        options: { authSource: "admin", tls: true },
      }),
    );
    expect(connectionUrl(s)).toBe("mongodb://a%40b:p%3Aw%2Fd@h:27017/?authSource=admin&tls=true");
    expect(describeConnection(s)).toBe("mongodb://a%40b:***@h:27017/?authSource=admin&tls=true");
    expect(connectionUrl({ ...s, engine: "mongodb+srv" })).toBe(
      "mongodb+srv://a%40b:p%3Aw%2Fd@h/?authSource=admin&tls=true",
    );
  });

  it("round-trips the local stack's URLs", () => {
    const url = "postgres://lakehouse:pa%20ss@127.0.0.1:55432/ddc";
    expect(connectionUrl(secretFromUrl(url))).toBe(url);
    expect(secretFromUrl("mongodb://127.0.0.1:27018/", "iot")).toMatchObject({
      engine: "mongodb",
      dbname: "iot",
    });
  });
});

describe("Glue JDBC settings of a connection", () => {
  it.each([
    [{ host: "h", port: 5433, dbname: "ddc", options: {} }, "jdbc:postgresql://h:5433/ddc"],
    [
      { host: "h", dbname: "ddc", options: { sslmode: "require" } },
      "jdbc:postgresql://h:5432/ddc?sslmode=require",
    ],
  ])("renders the JDBC URL of %o", (c, url) => {
    expect(jdbcUrl(c)).toBe(url);
  });

  it("never puts credentials in the JDBC URL: Glue reads them from the secret", () => {
    const c = secretFromUrl("postgres://reader:hunter2@db:5432/ddc?sslmode=verify-full");
    expect(jdbcUrl(c)).toBe("jdbc:postgresql://db:5432/ddc?sslmode=verify-full");
  });

  it.each([
    [{}, false],
    [{ sslmode: "disable" }, false],
    [{ sslmode: "require" }, true],
    [{ sslmode: "verify-full" }, true],
  ])("enforces TLS for options %o: %s", (options, tls) => {
    expect(requiresTls({ options })).toBe(tls);
  });
});

describe("errors towards Step Functions", () => {
  it("maps the retryable flag and transient library errors to RetryableError, the rest to TerminalError", () => {
    expect(toStepFunctionsError(new SecretUnavailableError("throttled")).name).toBe("RetryableError");
    expect(toStepFunctionsError(new ConfigError("bad")).name).toBe("TerminalError");
    expect(
      toStepFunctionsError(
        new DocumentValidationError({ collection: "events" }, [{ field: "ts", reason: "x" }]),
      ).name,
    ).toBe("TerminalError");
    expect(
      isRetryable(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })),
    ).toBe(true);
    expect(
      isRetryable(Object.assign(new Error("server selection"), { name: "MongoServerSelectionError" })),
    ).toBe(true);
    expect(isRetryable(new TypeError("x is undefined"))).toBe(false);
    const wrapped = toStepFunctionsError(new ConfigError("secret prod/ddc: host is not set"));
    expect(wrapped.message).toBe("ConfigError: secret prod/ddc: host is not set");
  });
});
