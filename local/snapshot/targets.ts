/**
 * The two databases a snapshot is written to, opened from {@link SnapshotConnections}.
 */
import { type Db, MongoClient } from "mongodb";
import type pg from "pg";
import type { SnapshotConnections } from "./config.js";
import { newPgClient } from "./postgres.js";

/** An open `ddc` connection and MongoDB database. Commands take these, so tests can aim them anywhere. */
export interface SnapshotTargets {
  readonly pg: pg.ClientBase;
  readonly mongo: Db;
}

export interface OpenTargets extends SnapshotTargets {
  close(): Promise<void>;
}

/** Connect to both databases; the caller closes them. */
export async function openTargets(connections: SnapshotConnections): Promise<OpenTargets> {
  const client = newPgClient(connections.ddcDatabaseUrl);
  await client.connect();
  try {
    // Timestamps print in UTC, so text checksums do not depend on the server's time zone.
    await client.query("SET TIME ZONE 'UTC'");
    const mongo = new MongoClient(connections.mongodbUrl, { serverSelectionTimeoutMS: 5000 });
    await mongo.connect();
    return {
      pg: client,
      mongo: mongo.db(connections.mongodbDatabase),
      async close() {
        await Promise.allSettled([client.end(), mongo.close()]);
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
