-- CreateEnum
CREATE TYPE "plan_mode" AS ENUM ('bulk', 'operations');

-- CreateEnum
CREATE TYPE "plan_status" AS ENUM ('planned', 'running', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "lastts" (
    "id_device" INTEGER NOT NULL,
    "collection" TEXT NOT NULL,
    "lastts" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lastts_pkey" PRIMARY KEY ("id_device","collection")
);

-- CreateTable
CREATE TABLE "metric" (
    "id" SERIAL NOT NULL,
    "run_id" TEXT NOT NULL,
    "plan_id" UUID,
    "collection" TEXT NOT NULL,
    "first_device" INTEGER,
    "last_device" INTEGER,
    "devices_to_query" INTEGER NOT NULL DEFAULT 0,
    "devices_processed" INTEGER NOT NULL DEFAULT 0,
    "documents_read" INTEGER NOT NULL DEFAULT 0,
    "documents_uploaded" INTEGER NOT NULL DEFAULT 0,
    "documents_quarantined" INTEGER NOT NULL DEFAULT 0,
    "bytes_uploaded" BIGINT NOT NULL DEFAULT 0,
    "queries_run" INTEGER NOT NULL DEFAULT 0,
    "computation_ms" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "metric_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "file_ledger" (
    "id" SERIAL NOT NULL,
    "object_key" TEXT NOT NULL,
    "collection" TEXT NOT NULL,
    "id_device" INTEGER NOT NULL,
    "window_from" TIMESTAMPTZ(3) NOT NULL,
    "window_to" TIMESTAMPTZ(3) NOT NULL,
    "rows" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,
    "run_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "file_ledger_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "plan" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "mode" "plan_mode" NOT NULL,
    "status" "plan_status" NOT NULL DEFAULT 'planned',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plan_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "plan_batch" (
    "plan_id" UUID NOT NULL,
    "collection" TEXT NOT NULL,
    "batch_index" INTEGER NOT NULL,
    "devices" INTEGER[],
    "last_log_dates" TIMESTAMPTZ(3)[],

    CONSTRAINT "plan_batch_pkey" PRIMARY KEY ("plan_id","collection","batch_index")
);

-- CreateTable
CREATE TABLE "drift_count" (
    "collection" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "count" BIGINT NOT NULL,
    "first_seen" TIMESTAMPTZ(3) NOT NULL,
    "last_seen" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "drift_count_pkey" PRIMARY KEY ("collection","key")
);

-- CreateTable
CREATE TABLE "quarantine" (
    "id" SERIAL NOT NULL,
    "run_id" TEXT NOT NULL,
    "collection" TEXT NOT NULL,
    "id_device" INTEGER,
    "document_id" TEXT,
    "reason" TEXT NOT NULL,
    "object_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quarantine_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "metric_collection_created_at_idx" ON "metric"("collection", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "metric_run_id_collection_key" ON "metric"("run_id", "collection");

-- CreateIndex
CREATE UNIQUE INDEX "file_ledger_object_key_key" ON "file_ledger"("object_key");

-- CreateIndex
CREATE INDEX "file_ledger_collection_id_idx" ON "file_ledger"("collection", "id");

-- CreateIndex
CREATE INDEX "quarantine_collection_created_at_idx" ON "quarantine"("collection", "created_at");

-- AddForeignKey
ALTER TABLE "metric" ADD CONSTRAINT "metric_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "plan"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plan_batch" ADD CONSTRAINT "plan_batch_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "plan"("id") ON DELETE CASCADE ON UPDATE CASCADE;
