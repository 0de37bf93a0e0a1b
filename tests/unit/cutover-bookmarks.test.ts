/** The cutover's review of the snapshot's bookmarks against production (pipeline/cutover/bookmarks.ts). */
import { describe, expect, it } from "vitest";
import { reviewBookmarks } from "../../pipeline/cutover/bookmarks.js";

const at = (iso: string) => new Date(iso);

describe("reviewBookmarks", () => {
  const bookmarks = [
    { idDevice: 1, collection: "events", lastts: at("2026-05-01T00:00:00Z") },
    { idDevice: 1, collection: "variable_logs", lastts: at("2026-05-01T00:00:00Z") },
    { idDevice: 2, collection: "events", lastts: at("2026-05-03T10:00:00Z") },
    { idDevice: 2, collection: "variable_logs", lastts: at("2026-05-03T12:00:00Z") },
    { idDevice: 3, collection: "events", lastts: at("2026-05-01T00:00:00Z") },
    { idDevice: 4, collection: "events", lastts: at("2026-05-01T00:00:00Z") },
  ];
  const production = [
    { idDevice: 1, lastLogDate: at("2026-05-02T00:00:00Z") },
    { idDevice: 2, lastLogDate: at("2026-05-03T09:30:00Z") },
    { idDevice: 4, lastLogDate: null },
    { idDevice: 5, lastLogDate: at("2026-05-02T00:00:00Z") },
  ];

  it("carries bookmarks over, moving back only those past production's completeness mark", () => {
    const review = reviewBookmarks(bookmarks, production);
    expect(review.moved).toEqual([
      {
        idDevice: 2,
        collection: "events",
        lastts: at("2026-05-03T10:00:00Z"),
        to: at("2026-05-03T09:30:00Z"),
      },
      // Slots of 6 hours: back to the last whole slot before the mark.
      {
        idDevice: 2,
        collection: "variable_logs",
        lastts: at("2026-05-03T12:00:00Z"),
        to: at("2026-05-03T06:00:00Z"),
      },
    ]);
    expect(review.unchanged).toBe(4);
  });

  it("reports devices production does not have, has without a mark, and has without a bookmark", () => {
    const review = reviewBookmarks(bookmarks, production);
    expect(review.unknown).toEqual([3]);
    expect(review.withoutMark).toEqual([4]);
    expect(review.added).toEqual([5]);
  });

  it("moves nothing a second time: the moved bookmarks are at the mark", () => {
    const first = reviewBookmarks(bookmarks, production);
    const after = bookmarks.map((b) => {
      const m = first.moved.find((x) => x.idDevice === b.idDevice && x.collection === b.collection);
      return m ? { ...b, lastts: m.to } : b;
    });
    expect(reviewBookmarks(after, production).moved).toEqual([]);
  });
});
