// A real SQLite file (migrated) in a fresh temporary folder for one describe block: opened in
// beforeAll, closed and removed in afterAll. Read its fields inside tests (they are set then).
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';

export interface TempDb {
  dir: string;
  path: string;
  db: Db;
}

export function useTempDb(prefix: string, setup?: (t: TempDb) => void): TempDb {
  const t = {} as TempDb;
  beforeAll(() => {
    t.dir = mkdtempSync(join(tmpdir(), prefix));
    t.path = join(t.dir, 'shopml.db');
    t.db = openDb(t.path);
    setup?.(t);
  });
  afterAll(() => {
    t.db?.close();
    if (t.dir) rmSync(t.dir, { recursive: true, force: true });
  });
  return t;
}

/** Makes fresh temporary folders (`make()`) for a test file or describe block; all removed in afterAll. */
export function useTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
