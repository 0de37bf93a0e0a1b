// Sums the JUnit reports of vitest and pytest into one closing line: "tests: N passed, N failed".
import { readFileSync } from "node:fs";

let total = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  const xml = readFileSync(file, "utf8");
  for (const [, attrs] of xml.matchAll(/<testsuite\s([^>]*)>/g)) {
    const num = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(attrs)?.[1] ?? 0);
    total += num("tests");
    failed += num("failures") + num("errors");
    skipped += num("skipped");
  }
}
const passed = total - failed - skipped;
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
