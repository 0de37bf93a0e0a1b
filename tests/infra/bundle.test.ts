/**
 * The Lambda bundles load on their own: each is built by infra/bundle.ts into a temp folder,
 * imported by a separate node process (as the Lambda runtime would, with no node_modules and
 * none of vitest's module transforms), and its handler called with an invalid event. Rejecting with
 * `TerminalError` (the invalid event) proves the whole module graph (Prisma client, mongodb,
 * pino, aws-embedded-metrics, the AWS SDK) loaded from the single file.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bundles, bundleFunctions, OPTIONAL_EXTERNALS, PRISMA_WASM_MODULE } from "../../infra/bundle.js";

const ENV = {
  DDC_SECRET_ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ddc",
  MONGODB_SECRET_ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mongodb",
  SUPPORT_SECRET_ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:support",
  SUPPORT_DB_HOST: "support.example.internal",
  SUPPORT_DB_PORT: "5432",
  SUPPORT_DB_NAME: "support",
  RAW_LAKE_URL: "s3://raw-bucket/",
  LOG_LEVEL: "silent",
};

/** An event each step's schema refuses (the plan accepts `{}`, so its mode is wrong). */
const INVALID_EVENT = {
  plan: { mode: "bogus" },
  worker: { bogus: 1 },
  summarize: { bogus: 1 },
  reconcile: { repair: "yes" },
} as const;

let out: string;
let bundles: Bundles;

/** Import `file` in a fresh node process (cwd: the bundle's folder) and call its handler. */
function invoke(
  file: string,
  event: unknown,
  env: Record<string, string>,
): { name: string; message: string } {
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
    try {
      await handler(${JSON.stringify(event)}, { awsRequestId: "t", getRemainingTimeInMillis: () => 60000 });
      console.log(JSON.stringify({ name: "resolved", message: "" }));
    } catch (error) {
      console.log(JSON.stringify({ name: error.name, message: error.message }));
    }`;
  const stdout = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: out,
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "lakehouse-bundle-"));
  bundles = bundleFunctions(out);
}, 60_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("function bundles", () => {
  it.each(["plan", "worker", "summarize", "reconcile"] as const)(
    "%s loads from its bundle and refuses an invalid event",
    (step) => {
      const error = invoke(join(bundles.dirs[step], "index.mjs"), INVALID_EVENT[step], ENV);
      expect(error.name).toBe("TerminalError");
      expect(error.message).toContain("InvalidEventError");
    },
  );

  it.each(["plan", "worker", "summarize", "reconcile"] as const)(
    "%s carries Prisma's WebAssembly query compiler",
    (step) => {
      expect(bundles.inputs[step].some((i) => i.endsWith(PRISMA_WASM_MODULE))).toBe(true);
      expect(bundles.inputs[step].some((i) => i.startsWith("pipeline/generated/prisma/"))).toBe(true);
    },
  );

  it("bundles the AWS SDK and leaves out only the driver's optional add-ons", () => {
    expect(bundles.inputs.worker.some((i) => i.includes("node_modules/@aws-sdk/client-s3/"))).toBe(true);
    expect(OPTIONAL_EXTERNALS.filter((e) => e.startsWith("@aws-sdk/"))).toEqual([
      "@aws-sdk/credential-providers",
    ]);
  });

  it("carries nothing of the local tooling: no local/ module, no devDependency", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    for (const [name, inputs] of Object.entries(bundles.inputs)) {
      expect(
        inputs.filter((i) => i.startsWith("local/")),
        name,
      ).toEqual([]);
      for (const dev of Object.keys(pkg.devDependencies))
        expect(
          inputs.filter((i) => i.includes(`node_modules/${dev}/`)),
          `${name}: ${dev}`,
        ).toEqual([]);
    }
  });

  it("ships the migrate function with the SQL migrations beside it", () => {
    expect(readdirSync(join(bundles.dirs.migrate, "migrations"))).toEqual(
      readdirSync(join(import.meta.dirname, "..", "..", "prisma", "migrations")),
    );
    // Without its environment it names what is missing instead of connecting anywhere.
    const { SUPPORT_DB_HOST: _host, ...env } = ENV;
    const error = invoke(join(bundles.dirs.migrate, "index.mjs"), {}, env);
    expect(error.name).toBe("ConfigError");
    expect(error.message).toContain("SUPPORT_DB_HOST is not set");
  });
});
