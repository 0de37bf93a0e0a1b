-- Issue 13: reconcile. Curated day counts (kept by the curate job), reconcile runs, their
-- findings, and the source watermarks of the incremental reconcile. New tables only.

-- CreateTable
CREATE TABLE "curated_day" (
    "collection" TEXT NOT NULL,
    "id_device" BIGINT NOT NULL,
    "day" DATE NOT NULL,
    "rows" BIGINT NOT NULL,
    "keys" BIGINT NOT NULL,
    "cells" BIGINT NOT NULL,
    "resets" BIGINT NOT NULL,
    "counted_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "curated_day_pkey" PRIMARY KEY ("collection","id_device","day")
);

-- CreateTable
CREATE TABLE "curated_count" (
    "collection" TEXT NOT NULL,
    "position" BIGINT NOT NULL,
    "counted_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "curated_count_pkey" PRIMARY KEY ("collection")
);

-- CreateTable
CREATE TABLE "reconcile_run" (
    "id" SERIAL NOT NULL,
    "run_id" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "repair" BOOLEAN NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "days_checked" INTEGER NOT NULL DEFAULT 0,
    "differences" INTEGER NOT NULL DEFAULT 0,
    "windows_replayed" INTEGER NOT NULL DEFAULT 0,
    "pass_id" INTEGER,
    "complete" BOOLEAN NOT NULL DEFAULT false,
    "resume_collection" TEXT,
    "resume_device" BIGINT,
    "resume_mark" TEXT,

    CONSTRAINT "reconcile_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reconcile_watermark" (
    "collection" TEXT NOT NULL,
    "object_id" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "reconcile_watermark_pkey" PRIMARY KEY ("collection")
);

-- CreateTable
CREATE TABLE "reconcile_difference" (
    "id" SERIAL NOT NULL,
    "reconcile_id" INTEGER NOT NULL,
    "collection" TEXT NOT NULL,
    "id_device" BIGINT,
    "day" DATE,
    "cause" TEXT NOT NULL,
    "count" BIGINT NOT NULL,
    "source" BIGINT NOT NULL,
    "curated" BIGINT NOT NULL,
    "quarantined" BIGINT NOT NULL,
    "in_flight" BIGINT NOT NULL,
    "detail" TEXT NOT NULL,

    CONSTRAINT "reconcile_difference_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "curated_day_counted_at_idx" ON "curated_day"("counted_at");

-- CreateIndex
CREATE INDEX "reconcile_run_finished_at_idx" ON "reconcile_run"("finished_at");

-- CreateIndex
CREATE INDEX "reconcile_difference_reconcile_id_idx" ON "reconcile_difference"("reconcile_id");

-- CreateIndex
CREATE INDEX "reconcile_difference_collection_id_device_day_idx" ON "reconcile_difference"("collection", "id_device", "day");

-- AddForeignKey
ALTER TABLE "reconcile_difference" ADD CONSTRAINT "reconcile_difference_reconcile_id_fkey" FOREIGN KEY ("reconcile_id") REFERENCES "reconcile_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Reconcile asks, for the documents of a day, which are quarantined: by collection and document id.
CREATE INDEX "quarantine_collection_document_id_idx" ON "quarantine"("collection", "document_id");

-- Reconcile and its repair read a device's windows of a collection in time order.
CREATE INDEX "file_ledger_collection_id_device_window_from_idx" ON "file_ledger"("collection", "id_device", "window_from");
