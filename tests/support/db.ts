import postgresJs from "postgres";
import type { SqlDriver } from "../../core/contracts/store.ts";
import { pgliteDriver } from "../../plugins/pglite/index.ts";
import { postgresDriver } from "../../plugins/postgres/index.ts";

/** The Postgres server the suites use, when there is one (CI sets it). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/** A fresh, empty database on the test server; dropped by `drop()`. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error("TEST_DATABASE_URL is not set");
  const name = `hookline_t_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const admin = postgresJs(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgresJs(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface StoreKind {
  name: "pglite" | "postgres";
  /** Opens a new, empty driver. */
  open(): Promise<SqlDriver & { dispose(): Promise<void> }>;
}

/** The stores every store-facing suite runs on: PGlite always, the server when TEST_DATABASE_URL is set. */
export const storeKinds: StoreKind[] = [
  {
    name: "pglite",
    async open() {
      const d = await pgliteDriver();
      return Object.assign(d, { dispose: () => d.close() });
    },
  },
  ...(TEST_DATABASE_URL
    ? [
        {
          name: "postgres" as const,
          async open() {
            const db = await freshDatabase();
            const d = postgresDriver({ url: db.url, max: 5 });
            return Object.assign(d, {
              dispose: async () => {
                await d.close();
                await db.drop();
              },
            });
          },
        },
      ]
    : []),
];
