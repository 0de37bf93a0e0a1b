/**
 * Parquet's RLE / bit-packed hybrid encoding, for definition levels and dictionary indices:
 * a run of at least 8 equal values becomes one RLE run (a count and the value), anything else is
 * bit-packed in groups of 8. A mostly-null column's levels are then a few bytes a page.
 */

/** Runs shorter than this are bit-packed; 8 is one bit-packed group. */
const MIN_RUN = 8;

/**
 * `values[0..count)` (each < 2^bitWidth) in the hybrid encoding, without a length prefix.
 * `bitWidth` is 1 to 24: levels take 1, dictionary indices at most 24 (a dictionary's entries
 * are capped far below 2^24).
 */
export function encodeHybrid(values: ArrayLike<number>, count: number, bitWidth: number): Buffer {
  if (!(bitWidth >= 1 && bitWidth <= 24)) throw new RangeError(`bit width ${bitWidth} outside 1..24`);
  const valueBytes = Math.ceil(bitWidth / 8);
  // Worst case: every value bit-packed, each of the at most count/8 + 1 packed runs padded by up
  // to a group, plus a header (and an RLE run's value) per run.
  const runs = Math.ceil(count / MIN_RUN) + 1;
  const out = Buffer.allocUnsafe(Math.ceil(count / 8) * bitWidth + runs * (bitWidth + 10 + valueBytes));
  let at = 0;
  let packedFrom = 0; // first value not yet written
  let i = 0;
  while (i < count) {
    const value = values[i] as number;
    let end = i + 1;
    while (end < count && values[end] === value) end++;
    if (end - i < MIN_RUN) {
      i = end;
      continue;
    }
    // A long run at i: values before it are bit-packed, topped up to whole groups of 8 from the
    // run itself (a bit-packed run may only be padded at the very end).
    let runFrom = i;
    const pending = runFrom - packedFrom;
    if (pending > 0) {
      runFrom += (MIN_RUN - (pending % MIN_RUN)) % MIN_RUN;
      at = writePacked(out, at, values, packedFrom, runFrom - packedFrom, bitWidth);
    }
    at = writeVarint(out, at, (end - runFrom) * 2);
    for (let b = 0, v = value; b < valueBytes; b++, v = Math.floor(v / 256)) out[at++] = v & 0xff;
    packedFrom = end;
    i = end;
  }
  if (packedFrom < count) at = writePacked(out, at, values, packedFrom, count - packedFrom, bitWidth);
  return out.subarray(0, at);
}

/** Bit width of the values 0..max: at least 1. */
export function bitWidthOf(max: number): number {
  let width = 1;
  while (max >= 2 ** width) width++;
  return width;
}

/** `length` values from `from`, bit-packed LSB first, the last group padded with zeros. */
function writePacked(
  out: Buffer,
  at: number,
  values: ArrayLike<number>,
  from: number,
  length: number,
  bitWidth: number,
): number {
  const groups = Math.ceil(length / 8);
  at = writeVarint(out, at, groups * 2 + 1);
  const end = from + length;
  const padded = from + groups * 8;
  if (bitWidth === 1) {
    // Definition levels: eight values a byte.
    for (let i = from; i < padded; i += 8) {
      let byte = 0;
      for (let b = 0; b < 8 && i + b < end; b++) byte |= ((values[i + b] as number) & 1) << b;
      out[at++] = byte;
    }
    return at;
  }
  let acc = 0;
  let bits = 0;
  for (let i = from; i < padded; i++) {
    const v = i < end ? (values[i] as number) : 0;
    acc = (acc | (v << bits)) >>> 0; // bits < 8 and v < 2^24: at most 31 bits, unsigned
    bits += bitWidth;
    while (bits >= 8) {
      out[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  return at; // groups of 8 values fill whole bytes: bits is 0 here
}

function writeVarint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}
