/**
 * The cutover's bookmark statement on the real support database: it moves exactly the reviewed
 * bookmarks in one statement, a second run changes nothing, and the logged values put back are
 * the snapshot's bookmarks again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBookmarks, reviewBookmarks, setBookmarks } from "../../pipeline/cutover/bookmarks.js";
import { type IngestWorld, openIngestWorld } from "../support/ingest-world.js";

let world: IngestWorld;
const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  world = await openIngestWorld("cutover_marks");
  await world.sql(
    `INSERT INTO lastts (id_device, collection, lastts) VALUES
       (1, 'events', '2026-05-01T00:00:00Z'), (2, 'events', '2026-05-03T10:00:00Z'),
       (2, 'alarm', '2026-05-03T11:00:00Z'), (3000000000, 'events', '2026-05-01T00:00:00Z')`,
  );
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe("setBookmarks", () => {
  it("moves the reviewed bookmarks, once, and puts them back", async () => {
    const before = await readBookmarks(world.pool);
    expect(before.map((b) => b.idDevice).sort()).toEqual([1, 2, 2, 3_000_000_000]);
    const review = reviewBookmarks(before, [
      { idDevice: 1, lastLogDate: at("2026-05-02T00:00:00Z") },
      { idDevice: 2, lastLogDate: at("2026-05-03T09:00:00Z") },
    ]);
    const moves = review.moved.map((m) => ({ ...m, from: m.lastts }));
    expect(moves).toHaveLength(2);
    expect(await setBookmarks(world.pool, moves)).toBe(2);
    // A second run finds them moved already.
    expect(await setBookmarks(world.pool, moves)).toBe(0);
    const moved = await readBookmarks(world.pool);
    expect(moved.filter((b) => b.idDevice === 2).map((b) => b.lastts)).toEqual([
      at("2026-05-03T09:00:00Z"),
      at("2026-05-03T09:00:00Z"),
    ]);
    expect(moved.find((b) => b.idDevice === 1)?.lastts).toEqual(at("2026-05-01T00:00:00Z"));

    const back = moves.map((m) => ({ ...m, from: m.to, to: m.lastts }));
    expect(await setBookmarks(world.pool, back)).toBe(2);
    expect(await readBookmarks(world.pool)).toEqual(before);
  });
});
