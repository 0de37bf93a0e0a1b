-- Issue 14: the cutover's log. One row per step a cutover or rollback applied, left unchanged,
-- undid after a later step failed, or failed on: who, when, and the setting before and after
-- (descriptions with passwords masked and secret version ids, never a secret value).

-- CreateTable
CREATE TABLE "cutover_log" (
    "id" SERIAL NOT NULL,
    "run_id" TEXT NOT NULL,
    "stack" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "step" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "operator" TEXT NOT NULL,
    "principal" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "before" JSONB,
    "after" JSONB,
    "message" TEXT,

    CONSTRAINT "cutover_log_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "cutover_log_action_check" CHECK ("action" IN ('execute', 'rollback')),
    CONSTRAINT "cutover_log_outcome_check" CHECK ("outcome" IN ('applied', 'unchanged', 'undone', 'failed'))
);

-- CreateIndex
CREATE INDEX "cutover_log_stack_step_id_idx" ON "cutover_log"("stack", "step", "id");
