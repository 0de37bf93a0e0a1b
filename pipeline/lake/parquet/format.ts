/**
 * The numbers of parquet.thrift (Apache Parquet format 2.x) the lake's writer uses: enum values
 * and struct field ids. Checked against parquetjs's generated Thrift types by the writer's tests.
 */

export const MAGIC = Buffer.from("PAR1", "ascii");

export const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const;

export const Repetition = { REQUIRED: 0, OPTIONAL: 1 } as const;

export const ConvertedType = { UTF8: 0, TIMESTAMP_MILLIS: 9 } as const;

export const Encoding = { PLAIN: 0, PLAIN_DICTIONARY: 2, RLE: 3 } as const;

export const Codec = { SNAPPY: 1 } as const;

export const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;

/** Field ids, per struct. */
export const FileMetaData = { version: 1, schema: 2, numRows: 3, rowGroups: 4, createdBy: 6 } as const;
export const SchemaElement = {
  type: 1,
  repetitionType: 3,
  name: 4,
  numChildren: 5,
  convertedType: 6,
} as const;
export const RowGroup = {
  columns: 1,
  totalByteSize: 2,
  numRows: 3,
  fileOffset: 5,
  totalCompressedSize: 6,
} as const;
export const ColumnChunk = { fileOffset: 2, metaData: 3 } as const;
export const ColumnMetaData = {
  type: 1,
  encodings: 2,
  pathInSchema: 3,
  codec: 4,
  numValues: 5,
  totalUncompressedSize: 6,
  totalCompressedSize: 7,
  dataPageOffset: 9,
  dictionaryPageOffset: 11,
  statistics: 12,
} as const;
export const Statistics = { max: 1, min: 2, nullCount: 3, maxValue: 5, minValue: 6 } as const;
export const PageHeader = {
  type: 1,
  uncompressedPageSize: 2,
  compressedPageSize: 3,
  dataPageHeader: 5,
  dictionaryPageHeader: 7,
} as const;
export const DataPageHeader = {
  numValues: 1,
  encoding: 2,
  definitionLevelEncoding: 3,
  repetitionLevelEncoding: 4,
} as const;
export const DictionaryPageHeader = { numValues: 1, encoding: 2 } as const;
