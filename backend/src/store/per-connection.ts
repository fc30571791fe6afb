// One value per SQLite connection, made on first use and kept while the connection lives: a
// module's prepared statements (prepared once, not per call — see docs/architecture.md,
// "Statements that stay prepared"), shared by every call on that connection.
import type { Db } from './db.ts';

export function perConnection<T>(make: (db: Db) => T): (db: Db) => T {
  const kept = new WeakMap<Db, T>();
  return (db) => {
    let v = kept.get(db);
    if (v === undefined) kept.set(db, (v = make(db)));
    return v;
  };
}
