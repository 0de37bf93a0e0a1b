/**
 * Bundles the Lambda entry points with esbuild into `.local/build/functions/<name>/index.mjs`:
 * one ESM file per function with every dependency inside, so the deployment package is exactly
 * what was tested and needs no `node_modules`.
 *
 * - The AWS SDK v3 is bundled too, although the Node runtime ships one: the runtime's version
 *   drifts with AWS's patching, ours is the pinned one the tests ran.
 * - Prisma Client 7 needs no engine binary (queries run through `@prisma/adapter-pg`); its query
 *   compiler is WebAssembly that the generated client loads with a dynamic `import()` of a
 *   base64 module, which esbuild follows, so the bundle carries it ({@link PRISMA_WASM_MODULE}).
 * - External: only the optional native or cloud-specific add-ons the mongodb driver `require`s
 *   inside try/catch (compression, Kerberos, client-side encryption, SOCKS, GCP/Azure auth).
 *   They are not installed; the driver works without them.
 * - `keepNames`: error classes set `name` from their class name, which Step Functions matches;
 *   bundling must not rename them (`ConfigError2`).
 */
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { type BuildOptions, buildSync, type Metafile } from "esbuild";
import { BUILD_DIR, PROJECT_ROOT } from "./paths.js";

/** The function entry points, by function name. */
export const FUNCTION_ENTRIES = {
  plan: "pipeline/lambda/plan.ts",
  worker: "pipeline/lambda/worker.ts",
  summarize: "pipeline/lambda/summarize.ts",
  reconcile: "pipeline/lambda/reconcile.ts",
  migrate: "pipeline/lambda/migrate.ts",
} as const;

export type FunctionName = keyof typeof FUNCTION_ENTRIES;

/** Optional dependencies of the mongodb driver, loaded only when configured; not installed. */
export const OPTIONAL_EXTERNALS = [
  "kerberos",
  "@mongodb-js/zstd",
  "snappy",
  "mongodb-client-encryption",
  "gcp-metadata",
  "socks",
  "aws4",
  "@aws-sdk/credential-providers",
] as const;

/** The WebAssembly query compiler module the generated Prisma client imports lazily. */
export const PRISMA_WASM_MODULE = "query_compiler_fast_bg.postgresql.wasm-base64.mjs";

/** The Lambda handler setting of every bundle: `index.mjs` exporting `handler`. */
export const HANDLER = "index.handler";

/** Where the migrate function finds the SQL migrations, next to its bundle. */
export const MIGRATIONS_DIR_NAME = "migrations";

export interface Bundles {
  /** Folder per function holding `index.mjs` (and, for migrate, `migrations/`). */
  readonly dirs: Record<FunctionName, string>;
  /** Repository-relative inputs of each bundle (from esbuild's metafile). */
  readonly inputs: Record<FunctionName, string[]>;
}

// ESM output of CommonJS packages: give them `require`, `__filename` and `__dirname`.
const BANNER = [
  "import { createRequire as __lakehouseCreateRequire } from 'node:module';",
  "import { fileURLToPath as __lakehouseFileURLToPath } from 'node:url';",
  "import { dirname as __lakehouseDirname } from 'node:path';",
  "const require = __lakehouseCreateRequire(import.meta.url);",
  "const __filename = __lakehouseFileURLToPath(import.meta.url);",
  "const __dirname = __lakehouseDirname(__filename);",
].join("\n");

/**
 * How every Node bundle of the project is built: the functions, and the ingestion benchmark's
 * children, which measure the code as the Lambda runs it.
 */
export const BUNDLE_OPTIONS = {
  absWorkingDir: PROJECT_ROOT,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node24",
  external: [...OPTIONAL_EXTERNALS],
  keepNames: true,
  legalComments: "none",
  banner: { js: BANNER },
  metafile: true,
  logLevel: "silent",
} as const satisfies BuildOptions;

/**
 * Bundle every function into `outDir` (default `.local/build/functions`), replacing what was
 * there. Synchronous: the Pulumi program needs the files before it declares the functions.
 */
export function bundleFunctions(outDir: string = join(BUILD_DIR, "functions")): Bundles {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = buildSync({
    ...BUNDLE_OPTIONS,
    entryPoints: Object.fromEntries(
      Object.entries(FUNCTION_ENTRIES).map(([name, entry]) => [`${name}/index`, entry]),
    ),
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
  });
  cpSync(join(PROJECT_ROOT, "prisma", "migrations"), join(outDir, "migrate", MIGRATIONS_DIR_NAME), {
    recursive: true,
  });
  const dirs = {} as Record<FunctionName, string>;
  const inputs = {} as Record<FunctionName, string[]>;
  for (const name of Object.keys(FUNCTION_ENTRIES) as FunctionName[]) {
    dirs[name] = join(outDir, name);
    inputs[name] = inputsOf(result.metafile, join(outDir, name, "index.mjs"));
  }
  return { dirs, inputs };
}

function inputsOf(metafile: Metafile, outFile: string): string[] {
  const key = relative(PROJECT_ROOT, outFile);
  const output = metafile.outputs[key];
  if (!output) throw new Error(`esbuild produced no ${key}`);
  return Object.keys(output.inputs);
}
