/**
 * The README's "For analysts" says what the code holds: every view with its columns, and every
 * example question with exactly the SQL the deployment saves and the tests run.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ANALYST_QUESTIONS } from "../../pipeline/reports/questions.js";
import { views } from "../../pipeline/reports/views.js";

const readme = readFileSync("README.md", "utf8");
const section = readme.slice(readme.indexOf("## For analysts"));
/** The section's text with the list's code-block indentation taken off. */
const unindented = section.replaceAll(/^ {3}/gm, "");

describe("README: For analysts", () => {
  it("exists", () => {
    expect(readme).toContain("## For analysts");
  });

  it.each(ANALYST_QUESTIONS)("answers '$question' with the saved SQL", (q) => {
    expect(section).toContain(q.question);
    expect(unindented).toContain(q.sql);
  });

  it.each(views)("describes analytics.$name and its columns", (view) => {
    expect(section).toContain(`analytics.${view.name}`);
    expect(section).toContain(view.description);
  });
});
