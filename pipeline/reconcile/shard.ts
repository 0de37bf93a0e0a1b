/**
 * Reconcile's shards (ADR 0025): a full pass over a production fleet's history takes far longer
 * than one function's 15 minutes, so the state machine runs one reconcile per shard at once. A
 * shard is the devices whose id modulo the shard count is its index; each shard has passes,
 * resume points and source watermarks of its own, so shards never wait for each other. Documents
 * of no ddc device belong to shard 0.
 */
import { z } from "zod";

export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Most shards a state machine fans out to (a Map's items, one function each). */
export const MAX_SHARDS = 256;

/** One shard of one: every device, what every reconcile was before shards. */
export const WHOLE: Shard = { index: 0, count: 1 };

/** How many shards a reconcile stage has. */
export const ShardCountSchema = z.number().int().min(1).max(MAX_SHARDS);

export const ShardSchema = z
  .object({
    index: z.number().int().min(0),
    count: ShardCountSchema,
  })
  .refine((s) => s.index < s.count, { message: "shard index must be below the shard count" });

/** Whether a device belongs to the shard (ids are whole numbers; negative ones too). */
export function inShard(shard: Shard, idDevice: number): boolean {
  return ((idDevice % shard.count) + shard.count) % shard.count === shard.index;
}

/** Every shard of a count, in order. */
export function shardsOf(count: number): Shard[] {
  return Array.from({ length: count }, (_, index) => ({ index, count }));
}

/** `i/N`, as the CLI takes and prints a shard. */
export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** A shard from `i/N` (the CLI's `--shard`), or a clear error. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`a shard is written index/count, like 3/50: got "${text}"`);
  const parsed = ShardSchema.safeParse({ index: Number(m[1]), count: Number(m[2]) });
  if (!parsed.success)
    throw new Error(`shard ${text}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return parsed.data;
}
