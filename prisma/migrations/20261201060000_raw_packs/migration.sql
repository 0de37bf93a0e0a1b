-- ADR 0023: raw packs. An object may hold the windows of several devices (a pack), one ledger
-- row each: the ledger's key becomes the device window (collection, device, window start), which
-- the object key alone was while every object held one window. Existing rows are unique in it
-- already (their keys were made of those three). A pack's key is recorded in
-- pack_upload before its upload and settled once committed (or removed), so a pack whose commit
-- never happened can be found and removed. No component deletes rows: settled records stay.

-- DropIndex
DROP INDEX "file_ledger_object_key_key";

-- DropIndex
DROP INDEX "file_ledger_collection_id_device_window_from_idx";

-- CreateIndex
CREATE INDEX "file_ledger_object_key_idx" ON "file_ledger"("object_key");

-- CreateIndex
CREATE UNIQUE INDEX "file_ledger_collection_id_device_window_from_key" ON "file_ledger"("collection", "id_device", "window_from");

-- CreateTable
CREATE TABLE "pack_upload" (
    "object_key" TEXT NOT NULL,
    "collection" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "settled_at" TIMESTAMPTZ(3),

    CONSTRAINT "pack_upload_pkey" PRIMARY KEY ("object_key")
);

-- CreateIndex
CREATE INDEX "pack_upload_collection_settled_at_created_at_idx" ON "pack_upload"("collection", "settled_at", "created_at");
