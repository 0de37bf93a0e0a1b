/** Reconcile's shards (ADR 0025): every device in exactly one, and the event and CLI forms checked. */
import { describe, expect, it } from "vitest";
import { ReconcileEventSchema } from "../../pipeline/lambda/events.js";
import {
  formatShard,
  inShard,
  MAX_SHARDS,
  parseShard,
  ShardSchema,
  shardsOf,
  WHOLE,
} from "../../pipeline/reconcile/shard.js";

describe("reconcile shards", () => {
  it("put every device id, negative and large ones too, in exactly one shard of a count", () => {
    const ids = [-7, -1, 0, 1, 2, 49, 50, 51, 4_242, 987_654, 2 ** 40 + 3];
    for (const count of [1, 2, 3, 7, 50, MAX_SHARDS])
      for (const id of ids) {
        const owners = shardsOf(count).filter((s) => inShard(s, id));
        expect(owners, `${id} in ${count}`).toHaveLength(1);
      }
    expect(inShard({ index: 2, count: 3 }, -1)).toBe(true);
    expect(inShard({ index: 1, count: 50 }, 51)).toBe(true);
    expect(ids.every((id) => inShard(WHOLE, id))).toBe(true);
  });

  it("list a count's shards in order, and read and print them as i/N", () => {
    expect(shardsOf(3)).toEqual([
      { index: 0, count: 3 },
      { index: 1, count: 3 },
      { index: 2, count: 3 },
    ]);
    expect(parseShard(" 3/50 ")).toEqual({ index: 3, count: 50 });
    expect(formatShard(parseShard("0/1"))).toBe("0/1");
  });

  it("refuse a shard outside its count, a count beyond the most, and other forms, saying why", () => {
    expect(() => parseShard("3/3")).toThrow(/below the shard count/);
    expect(() => parseShard(`0/${MAX_SHARDS + 1}`)).toThrow(/shard 0\/257/);
    expect(() => parseShard("0/0")).toThrow();
    expect(() => parseShard("3")).toThrow(/index\/count, like 3\/50/);
    expect(() => parseShard("-1/3")).toThrow(/index\/count/);
    expect(ShardSchema.safeParse({ index: 1.5, count: 3 }).success).toBe(false);
  });

  it("default an event without a shard to the whole fleet, and refuse a bad one", () => {
    expect(ReconcileEventSchema.parse({}).shard).toEqual(WHOLE);
    expect(ReconcileEventSchema.parse({ repair: true, shard: { index: 4, count: 50 } }).shard).toEqual({
      index: 4,
      count: 50,
    });
    expect(ReconcileEventSchema.safeParse({ shard: { index: 5, count: 5 } }).success).toBe(false);
  });
});
