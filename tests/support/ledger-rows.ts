/**
 * The raw rows the ledger names, read as the curate job reads them: each object once, and of it
 * the rows of the devices the ledger lists for it (a window's own object holds one device, a
 * pack several: ADR 0023). A pack may hold rows the ledger does not list (a window extracted
 * again since, a window whose earlier one failed to commit): those are skipped, as curate skips them.
 */
import { ParquetReader } from "@dsnp/parquetjs";
import type { ObjectStore } from "../../pipeline/lake/object-store.js";

export interface LedgerObject {
  readonly objectKey: string;
  readonly idDevice: number | bigint | string;
}

type Row = Record<string, unknown>;

/** Every row of the Parquet object at `key`, int64 values as numbers. */
export async function objectRows(store: ObjectStore, key: string): Promise<Row[]> {
  const reader = await ParquetReader.openBuffer(await store.get(key));
  const cursor = reader.getCursor();
  const rows: Row[] = [];
  for (let r = await cursor.next(); r; r = await cursor.next()) {
    rows.push(
      Object.fromEntries(
        Object.entries(r as Row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]),
      ),
    );
  }
  await reader.close();
  return rows;
}

/** The rows `ledger` names, object by object in the ledger's order. */
export async function ledgerRows(store: ObjectStore, ledger: readonly LedgerObject[]): Promise<Row[]> {
  const devices = new Map<string, Set<number>>();
  for (const { objectKey, idDevice } of ledger) {
    const set = devices.get(objectKey) ?? new Set<number>();
    set.add(Number(idDevice));
    devices.set(objectKey, set);
  }
  const rows: Row[] = [];
  for (const [key, named] of devices) {
    for (const row of await objectRows(store, key)) if (named.has(Number(row.id_device))) rows.push(row);
  }
  return rows;
}
