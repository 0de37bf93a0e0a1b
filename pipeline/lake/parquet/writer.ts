/**
 * The lake's Parquet encoder: rows in, the file's bytes out a row group at a time, so a caller
 * streams an object of any size with memory bounded by one row group. Flat schemas only (every
 * registry entry: one primitive column per field, OPTIONAL or REQUIRED).
 *
 * Why our own and not parquetjs (ADR 0026): parquetjs shreds and encodes value by value through
 * a general nested-schema path and writes no dictionaries; this one buffers each column in a typed
 * array and encodes it whole, with a dictionary where that is smaller.
 */

import { parquetSchemaOf } from "../../schema/parquet.js";
import type { RegistryEntry } from "../../schema/registry.js";
import type { LakeRow } from "../../schema/validate.js";
import { ColumnBuffer } from "./column.js";
import {
  ColumnChunk,
  ConvertedType,
  FileMetaData,
  MAGIC,
  PhysicalType,
  Repetition,
  RowGroup,
  SchemaElement,
} from "./format.js";
import { binary, encodeStruct, i32, i64, struct, structs, type ThriftStruct } from "./thrift.js";

/** Recorded in each file's footer (parquet-mr parses "<app> version <x>"). */
export const CREATED_BY = "oven-lakehouse version 1";

export interface ParquetEncoderOptions {
  /** A row group ends at this many rows… */
  readonly rowGroupSize: number;
  /** …or once its values' estimated bytes reach this. */
  readonly rowGroupBytes: number;
}

/** Columns start this small and grow: most windows of an operations run are a few rows. */
const INITIAL_CAPACITY = 256;

export class ParquetEncoder {
  readonly #columns: ColumnBuffer[];
  readonly #options: ParquetEncoderOptions;
  readonly #rowGroups: ThriftStruct[] = [];
  /** Bytes handed out so far: the next chunk's file offset. */
  #offset = 0;
  #rows = 0;
  #groupRows = 0;
  #groupBytes = 0;

  constructor(entry: RegistryEntry, options: ParquetEncoderOptions) {
    this.#options = options;
    const capacity = Math.min(INITIAL_CAPACITY, options.rowGroupSize);
    this.#columns = parquetSchemaOf(entry).map((column) => new ColumnBuffer(column, capacity));
  }

  /** Rows appended (and kept) so far. */
  get rows(): number {
    return this.#rows;
  }

  /** The file's first bytes. */
  start(): Buffer {
    if (this.#offset !== 0) throw new Error("ParquetEncoder: start() called twice");
    this.#offset = MAGIC.byteLength;
    return MAGIC;
  }

  /**
   * Add a row; returns a finished row group's bytes when this row completes one. A row that does
   * not fit the schema throws (ColumnValueError) and leaves nothing behind.
   */
  append(row: LakeRow): Buffer | null {
    const columns = this.#columns;
    const before = this.#groupRows;
    let bytes = 0;
    let i = 0;
    try {
      for (; i < columns.length; i++) {
        const column = columns[i] as ColumnBuffer;
        const was = column.bytes;
        column.append(row[column.spec.name]);
        bytes += column.bytes - was;
      }
    } catch (error) {
      for (let j = 0; j < i; j++) (columns[j] as ColumnBuffer).truncate(before);
      throw error;
    }
    this.#rows++;
    this.#groupRows++;
    this.#groupBytes += bytes;
    if (this.#groupRows >= this.#options.rowGroupSize || this.#groupBytes >= this.#options.rowGroupBytes) {
      return this.#flush();
    }
    return null;
  }

  /** The last row group (if any rows are pending) and the footer: the file's last bytes. */
  finish(): Buffer[] {
    const out: Buffer[] = [];
    if (this.#groupRows > 0) out.push(this.#flush());
    const schema: ThriftStruct[] = [
      [binary(SchemaElement.name, "root"), i32(SchemaElement.numChildren, this.#columns.length)],
      ...this.#columns.map(
        ({ spec }): ThriftStruct => [
          i32(SchemaElement.type, PhysicalType[spec.physical]),
          i32(SchemaElement.repetitionType, Repetition[spec.repetition]),
          binary(SchemaElement.name, spec.name),
          spec.converted && i32(SchemaElement.convertedType, ConvertedType[spec.converted]),
        ],
      ),
    ];
    const footer = encodeStruct([
      i32(FileMetaData.version, 1),
      structs(FileMetaData.schema, schema),
      i64(FileMetaData.numRows, this.#rows),
      structs(FileMetaData.rowGroups, this.#rowGroups),
      binary(FileMetaData.createdBy, CREATED_BY),
    ]);
    const tail = Buffer.allocUnsafe(8);
    tail.writeUInt32LE(footer.byteLength, 0);
    MAGIC.copy(tail, 4);
    out.push(footer, tail);
    this.#offset += footer.byteLength + tail.byteLength;
    return out;
  }

  #flush(): Buffer {
    const start = this.#offset;
    const parts: Buffer[] = [];
    const chunks: ThriftStruct[] = [];
    let uncompressed = 0;
    let offset = start;
    for (const column of this.#columns) {
      const chunk = column.encode();
      parts.push(...chunk.pages);
      chunks.push([i64(ColumnChunk.fileOffset, offset), struct(ColumnChunk.metaData, chunk.meta(offset))]);
      uncompressed += chunk.uncompressedBytes;
      offset += chunk.bytes;
    }
    this.#rowGroups.push([
      structs(RowGroup.columns, chunks),
      i64(RowGroup.totalByteSize, uncompressed),
      i64(RowGroup.numRows, this.#groupRows),
      i64(RowGroup.fileOffset, start),
      i64(RowGroup.totalCompressedSize, offset - start),
    ]);
    this.#offset = offset;
    this.#groupRows = 0;
    this.#groupBytes = 0;
    return Buffer.concat(parts, offset - start);
  }
}
