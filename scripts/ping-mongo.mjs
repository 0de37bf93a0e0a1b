// Health check for the MongoDB-protocol server: a real `ping` plus the version it reports.
import { MongoClient } from "mongodb";

const url = process.argv[2] ?? process.env.MONGODB_URL;
const client = new MongoClient(url, { serverSelectionTimeoutMS: 3000 });
try {
  const admin = client.db("admin");
  await admin.command({ ping: 1 });
  const info = await admin.command({ buildInfo: 1 });
  console.log(`${info.version}${info.ferretdbVersion ? ` / FerretDB ${info.ferretdbVersion}` : ""}`);
} finally {
  await client.close();
}
