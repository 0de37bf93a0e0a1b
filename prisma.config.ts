/**
 * Prisma CLI configuration (Prisma 7 reads it instead of `url` in schema.prisma and no longer loads
 * `.env`). Only `prisma generate` runs here (scripts/prisma-generate.sh); migrations are applied by
 * pipeline/support/migrate.ts because the schema engine binary is not available (ADR 0004).
 */
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  // Optional: `generate` needs no database; `env()` would throw when the variable is unset.
  datasource: { url: process.env.SUPPORT_DATABASE_URL },
});
