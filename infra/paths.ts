/** Paths the program reads from the repository, independent of the working directory. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where Pulumi.yaml is). */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Build output of the program (git-ignored): function bundles. */
export const BUILD_DIR = join(PROJECT_ROOT, ".local", "build");
