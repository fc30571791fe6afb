// The database a command works on: --db, else DATABASE_PATH, else ./data/shopml.db. Commands that
// read or change what is stored refuse to create an empty database by accident.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openDb, type Db } from '../store/db.ts';
import { str, type ParsedArgs } from './args.ts';

export function databasePath(p: ParsedArgs, env: Record<string, string | undefined>): string {
  return resolve(str(p, 'db') ?? env.DATABASE_PATH ?? './data/shopml.db');
}

/** The existing database, or null after saying on stderr that there is none. */
export function openExistingDb(p: ParsedArgs, env: Record<string, string | undefined>): Db | null {
  const path = databasePath(p, env);
  if (!existsSync(path)) {
    console.error(`error: no database at ${path}`);
    return null;
  }
  return openDb(path);
}
