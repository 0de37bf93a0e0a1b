/** What the operator reads: each check with its mark and problems, each step as it is and would be. */
import { describe, expect, it } from "vitest";
import { formatPlan } from "../../local/cli/cutover.js";
import type { CutoverPlan, PlannedStep } from "../../pipeline/cutover/cutover.js";

const step = (name: PlannedStep["name"], done: boolean, now: string, want: string, detail: string[] = []) =>
  ({
    name,
    done,
    now,
    want,
    detail,
    before: {},
    apply: async () => async () => undefined,
  }) satisfies PlannedStep;

const base: Omit<CutoverPlan, "checks" | "steps"> = {
  stack: "prod",
  action: "execute",
  to: "production",
  where: "snapshot",
};

describe("formatPlan", () => {
  it("lists the checks, then the steps: unchanged ones on one line, others as now → want", () => {
    const text = formatPlan({
      ...base,
      checks: [
        { name: "support database", detail: "reachable", problems: [] },
        { name: "executions", detail: "none running", problems: [] },
      ],
      steps: [
        step("bookmarks", false, "10 bookmarks, 1 ahead", "1 moved back", ["events device 7: a → b"]),
        step("ddc secret", true, "postgres://u:***@h:5432/ddc", "same"),
      ],
    });
    expect(text.split("\n")).toEqual([
      "cutover of stack prod: snapshot → production",
      "now: the snapshot",
      "preflight",
      "  ✓ support database  reachable",
      "  ✓ executions        none running",
      "steps",
      "  1. bookmarks       10 bookmarks, 1 ahead",
      "                     → 1 moved back",
      "       events device 7: a → b",
      "  2. ddc secret      unchanged: postgres://u:***@h:5432/ddc",
    ]);
  });

  it("marks a failed check and lists its problems; no steps when any check failed", () => {
    const text = formatPlan({
      ...base,
      action: "rollback",
      to: "snapshot",
      where: "between",
      checks: [
        { name: "mongodb snapshot", detail: "mongodb://h/ database iot", problems: ["alarm: index missing"] },
      ],
      steps: [],
    });
    expect(text).toContain("rollback of stack prod: production → snapshot");
    expect(text).toContain("now: between the two");
    expect(text).toContain("  ✗ mongodb snapshot  mongodb://h/ database iot\n      alarm: index missing");
    expect(text).not.toContain("steps");
  });
});
