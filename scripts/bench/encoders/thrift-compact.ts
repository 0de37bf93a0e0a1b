/**
 * Just enough of Thrift's compact protocol to read a Parquet footer (`FileMetaData`), change a
 * few fields and write it back: values keep their wire types and field ids, so fields this file
 * knows nothing about survive untouched.
 * https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
 */

export const T = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

export type TValue = boolean | number | bigint | Uint8Array | TList | TMap | TStruct;

export interface TField {
  readonly id: number;
  /** Wire type; for booleans T.TRUE (the value decides TRUE or FALSE when written). */
  readonly type: number;
  value: TValue;
}

export interface TList {
  readonly kind: "list";
  readonly elemType: number;
  readonly set: boolean;
  items: TValue[];
}

export interface TMap {
  readonly kind: "map";
  readonly keyType: number;
  readonly valueType: number;
  entries: [TValue, TValue][];
}

export class TStruct {
  constructor(public fields: TField[] = []) {}

  get(id: number): TValue | undefined {
    return this.fields.find((f) => f.id === id)?.value;
  }

  set(id: number, type: number, value: TValue): void {
    const field = this.fields.find((f) => f.id === id);
    if (field) field.value = value;
    else {
      this.fields.push({ id, type, value });
      this.fields.sort((a, b) => a.id - b.id);
    }
  }

  delete(id: number): void {
    this.fields = this.fields.filter((f) => f.id !== id);
  }
}

export class CompactReader {
  #pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
  ) {
    this.#pos = start;
  }

  get position(): number {
    return this.#pos;
  }

  #byte(): number {
    if (this.#pos >= this.buf.length) throw new RangeError("thrift: read past the end");
    return this.buf[this.#pos++] as number;
  }

  #varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.#byte();
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }

  #zigzag(): bigint {
    const n = this.#varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  #value(type: number, inContainer: boolean): TValue {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return inContainer ? this.#byte() === T.TRUE : type === T.TRUE;
      case T.BYTE:
        return (this.#byte() << 24) >> 24;
      case T.I16:
      case T.I32:
        return Number(this.#zigzag());
      case T.I64:
        return this.#zigzag();
      case T.DOUBLE: {
        const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.#pos, 8);
        this.#pos += 8;
        return view.getFloat64(0, true);
      }
      case T.BINARY: {
        const length = Number(this.#varint());
        const bytes = this.buf.subarray(this.#pos, this.#pos + length);
        this.#pos += length;
        return bytes;
      }
      case T.LIST:
      case T.SET: {
        const head = this.#byte();
        const size = head >> 4 === 15 ? Number(this.#varint()) : head >> 4;
        const elemType = head & 0x0f;
        const items: TValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.#value(elemType, true));
        return { kind: "list", elemType, set: type === T.SET, items };
      }
      case T.MAP: {
        const size = Number(this.#varint());
        const types = size ? this.#byte() : 0;
        const entries: [TValue, TValue][] = [];
        for (let i = 0; i < size; i++) {
          entries.push([this.#value(types >> 4, true), this.#value(types & 0x0f, true)]);
        }
        return { kind: "map", keyType: types >> 4, valueType: types & 0x0f, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new RangeError(`thrift: unknown compact type ${type}`);
    }
  }

  struct(): TStruct {
    const fields: TField[] = [];
    let id = 0;
    for (;;) {
      const head = this.#byte();
      if (head === 0) return new TStruct(fields);
      const delta = head >> 4;
      const wire = head & 0x0f;
      id = delta ? id + delta : Number(this.#zigzag());
      const value = this.#value(wire, false);
      fields.push({ id, type: wire === T.FALSE ? T.TRUE : wire, value });
    }
  }
}

export class CompactWriter {
  #buf = new Uint8Array(1024);
  #pos = 0;

  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  #byte(b: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = b & 0xff;
  }

  #varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.#byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#byte(Number(v));
  }

  #zigzag(n: bigint): void {
    this.#varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
  }

  #value(type: number, value: TValue, inContainer: boolean): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        if (inContainer) this.#byte(value ? T.TRUE : T.FALSE);
        return; // a field's boolean is in its header
      case T.BYTE:
        this.#byte(value as number);
        return;
      case T.I16:
      case T.I32:
        this.#zigzag(BigInt(value as number));
        return;
      case T.I64:
        this.#zigzag(value as bigint);
        return;
      case T.DOUBLE: {
        this.#ensure(8);
        new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#pos, 8).setFloat64(
          0,
          value as number,
          true,
        );
        this.#pos += 8;
        return;
      }
      case T.BINARY: {
        const bytes = value as Uint8Array;
        this.#varint(BigInt(bytes.length));
        this.#ensure(bytes.length);
        this.#buf.set(bytes, this.#pos);
        this.#pos += bytes.length;
        return;
      }
      case T.LIST:
      case T.SET: {
        const list = value as TList;
        const size = list.items.length;
        if (size < 15) this.#byte((size << 4) | list.elemType);
        else {
          this.#byte(0xf0 | list.elemType);
          this.#varint(BigInt(size));
        }
        for (const item of list.items) this.#value(list.elemType, item, true);
        return;
      }
      case T.MAP: {
        const map = value as TMap;
        this.#varint(BigInt(map.entries.length));
        if (map.entries.length) this.#byte((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) {
          this.#value(map.keyType, k, true);
          this.#value(map.valueType, v, true);
        }
        return;
      }
      case T.STRUCT:
        this.struct(value as TStruct);
        return;
      default:
        throw new RangeError(`thrift: unknown compact type ${type}`);
    }
  }

  struct(s: TStruct): void {
    let last = 0;
    for (const { id, type, value } of s.fields) {
      const wire = type === T.TRUE || type === T.FALSE ? (value ? T.TRUE : T.FALSE) : type;
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.#byte((delta << 4) | wire);
      else {
        this.#byte(wire);
        this.#zigzag(BigInt(id));
      }
      this.#value(type, value, false);
      last = id;
    }
    this.#byte(0);
  }
}
