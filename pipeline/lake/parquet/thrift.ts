/**
 * Thrift's compact protocol, the encoding of every Parquet page header and footer: just the part
 * the lake's writer needs (structs of i32, i64, binary, lists), written straight into a
 * growing buffer. Field ids and types come from parquet.thrift (format.ts).
 *
 * Integers are JS numbers: every count and offset the writer records stays far below 2^53.
 */

/** Compact-protocol type ids of a field header or a list's elements. */
const CompactType = {
  I32: 5,
  I64: 6,
  Binary: 8,
  List: 9,
  Struct: 12,
} as const;
type CompactType = (typeof CompactType)[keyof typeof CompactType];

/** A struct as its fields in increasing id order; `undefined` fields are left out (optional). */
export type ThriftStruct = readonly (ThriftField | undefined)[];

export type ThriftField =
  | { readonly id: number; readonly i32: number }
  | { readonly id: number; readonly i64: number }
  | { readonly id: number; readonly binary: Uint8Array | string }
  | { readonly id: number; readonly struct: ThriftStruct }
  | { readonly id: number; readonly i32s: readonly number[] }
  | { readonly id: number; readonly strings: readonly string[] }
  | { readonly id: number; readonly structs: readonly ThriftStruct[] };

export const i32 = (id: number, value: number): ThriftField => ({ id, i32: value });
export const i64 = (id: number, value: number): ThriftField => ({ id, i64: value });
export const binary = (id: number, value: Uint8Array | string): ThriftField => ({ id, binary: value });
export const struct = (id: number, value: ThriftStruct): ThriftField => ({ id, struct: value });
export const i32s = (id: number, value: readonly number[]): ThriftField => ({ id, i32s: value });
export const strings = (id: number, value: readonly string[]): ThriftField => ({ id, strings: value });
export const structs = (id: number, value: readonly ThriftStruct[]): ThriftField => ({ id, structs: value });

/** The compact encoding of `value` as a top-level struct. */
export function encodeStruct(value: ThriftStruct): Buffer {
  const out = new ByteSink(256);
  writeStruct(out, value);
  return out.bytes();
}

function writeStruct(out: ByteSink, fields: ThriftStruct): void {
  let last = 0;
  for (const field of fields) {
    if (field === undefined) continue;
    if (field.id <= last) throw new Error(`thrift: field ${field.id} after ${last}`);
    const type = typeOf(field);
    const delta = field.id - last;
    if (delta <= 15) out.byte((delta << 4) | type);
    else {
      out.byte(type);
      out.varint(zigzag(field.id));
    }
    last = field.id;
    writeValue(out, field);
  }
  out.byte(0); // stop
}

function typeOf(field: ThriftField): CompactType {
  if ("i32" in field) return CompactType.I32;
  if ("i64" in field) return CompactType.I64;
  if ("binary" in field) return CompactType.Binary;
  if ("struct" in field) return CompactType.Struct;
  return CompactType.List;
}

function writeValue(out: ByteSink, field: ThriftField): void {
  if ("i32" in field || "i64" in field) out.varint(zigzag("i32" in field ? field.i32 : field.i64));
  else if ("binary" in field) out.binary(field.binary);
  else if ("struct" in field) writeStruct(out, field.struct);
  else if ("i32s" in field) {
    listHeader(out, field.i32s.length, CompactType.I32);
    for (const v of field.i32s) out.varint(zigzag(v));
  } else if ("strings" in field) {
    listHeader(out, field.strings.length, CompactType.Binary);
    for (const v of field.strings) out.binary(v);
  } else {
    listHeader(out, field.structs.length, CompactType.Struct);
    for (const v of field.structs) writeStruct(out, v);
  }
}

function listHeader(out: ByteSink, size: number, type: CompactType): void {
  if (size < 15) out.byte((size << 4) | type);
  else {
    out.byte(0xf0 | type);
    out.varint(size);
  }
}

/** ZigZag of a safe integer, as a non-negative number (no 32-bit wrap: i64 fields exceed it). */
function zigzag(n: number): number {
  if (!Number.isSafeInteger(n)) throw new RangeError(`thrift: ${n} is not a safe integer`);
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

/** A growing byte buffer. */
class ByteSink {
  #buf: Buffer;
  #len = 0;

  constructor(capacity: number) {
    this.#buf = Buffer.allocUnsafe(capacity);
  }

  bytes(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }

  byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(n: number): void {
    this.#reserve(10);
    while (n >= 0x80) {
      this.#buf[this.#len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buf[this.#len++] = n;
  }

  binary(value: Uint8Array | string): void {
    const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    this.varint(bytes.byteLength);
    this.#reserve(bytes.byteLength);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.byteLength;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.byteLength) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buf.byteLength * 2, this.#len + n));
    this.#buf.copy(grown, 0, 0, this.#len);
    this.#buf = grown;
  }
}
