-- Reconcile in shards (ADR 0025): the state machine checks the devices in N shards at once
-- (device id mod N), each shard its own pass, resume point and source watermarks. Existing runs
-- and watermarks are those of one shard of one (0 of 1), which is what every run was so far.

-- AlterTable
ALTER TABLE "reconcile_run" ADD COLUMN "shard_index" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "shard_count" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "reconcile_watermark" DROP CONSTRAINT "reconcile_watermark_pkey",
ADD COLUMN "shard_index" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "shard_count" INTEGER NOT NULL DEFAULT 1,
ADD CONSTRAINT "reconcile_watermark_pkey" PRIMARY KEY ("collection", "shard_count", "shard_index");

-- CreateIndex
CREATE INDEX "reconcile_run_shard_count_shard_index_id_idx" ON "reconcile_run"("shard_count", "shard_index", "id");
