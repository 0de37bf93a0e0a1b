-- Issue 13. Device ids are bigint end to end, as ddc declares `device.id`: an id >= 2^31 no longer
-- stops the plan and the worker ("integer out of range"). Each ALTER rewrites its table (and
-- rebuilds its indexes) under an exclusive lock: seconds for lastts and plan_batch, longer for a
-- large file_ledger or quarantine; run it while no execution is in progress.

-- AlterTable
ALTER TABLE "file_ledger" ALTER COLUMN "id_device" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "lastts" ALTER COLUMN "id_device" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "metric" ALTER COLUMN "first_device" SET DATA TYPE BIGINT,
ALTER COLUMN "last_device" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "plan_batch" ALTER COLUMN "devices" SET DATA TYPE BIGINT[];

-- AlterTable
ALTER TABLE "quarantine" ALTER COLUMN "id_device" SET DATA TYPE BIGINT;

-- A quarantine object key is the quarantined document's identity (deterministic, and injective
-- in its _id since this issue): one row per key. Rows that share a key from before (a replayed
-- window; two documents whose ids the old key format made equal, whose copies overwrote each
-- other) keep their row, the older ones with their key marked `#<id>`: their copy at that key is
-- the newest row's, or the same document's.
UPDATE "quarantine" AS q SET "object_key" = q."object_key" || '#' || q."id"
WHERE EXISTS (SELECT 1 FROM "quarantine" AS p WHERE p."object_key" = q."object_key" AND p."id" > q."id");

-- CreateIndex
CREATE UNIQUE INDEX "quarantine_object_key_key" ON "quarantine"("object_key");
