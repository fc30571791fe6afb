// The SQL a piece of code prepares, for tests that look at every statement a path uses (its query
// plan: query-plans.test.ts; whether it stays prepared: statements-stay-prepared.test.ts).
import type { Db } from '../../backend/src/store/db.ts';

export interface PreparedRecorder {
  /** Every statement prepared since the start, in order (repeats included). */
  readonly sqls: string[];
  /** Stops recording (db.prepare is itself again). */
  stop(): void;
}

export function recordPrepared(db: Db): PreparedRecorder {
  const sqls: string[] = [];
  const prepare = db.prepare;
  db.prepare = ((sql: string) => {
    sqls.push(sql);
    return prepare.call(db, sql);
  }) as typeof db.prepare;
  return { sqls, stop: () => { db.prepare = prepare; } };
}

/** Arguments that fill every placeholder of `sql` with `value`: one object for named parameters, else one per `?`. */
export function placeholderArgs(sql: string, value: unknown): unknown[] {
  const s = sql.replace(/'[^']*'/g, '');
  const named = [...new Set((s.match(/[@:$][A-Za-z_]\w*/g) ?? []).map((x) => x.slice(1)))];
  if (named.length > 0) return [Object.fromEntries(named.map((n) => [n, value]))];
  return new Array((s.match(/\?/g) ?? []).length).fill(value);
}
