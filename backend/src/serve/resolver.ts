// Which model version a shopper is served: the seam between serving and the model registry /
// rollout engine. Serving asks two things:
//
//   generation(shop)  on every request — must be cheap (one indexed read). When the value
//                     changes (an alias moved, an experiment started or stopped), serving calls
//   load(shop)        once, and keeps the Rollout it returns until the next change.
//
// A Rollout names the versions behind `champion` and `challenger` and assigns a unit (logged-in
// customer id, else the block's anonymous id) to an arm; `variantOf` runs per request, so it must
// be a pure function of the unit (a hash), not a query.
import type { Db } from '../store/db.ts';
import type { Arm } from './rec-id.ts';

export type { Arm };

export interface Rollout {
  /** The live experiment (its id goes into rec ids, exposures and conversions), or null. */
  experiment: number | null;
  champion: string | null;
  challenger: string | null;
  /** The arm of a unit. Never 'challenger' when `challenger` is null (serving guards anyway). */
  variantOf(unit: string): Arm;
}

export interface Resolver {
  generation(shop: string): number | string;
  load(shop: string): Rollout;
  /**
   * True when the generation changes only through writes to the serving database (true of the
   * registry's and rollout's tables). Serving may then skip asking while the database reports no
   * change at all since its last look (one cheap read); otherwise it asks on every request.
   */
  readonly inDatabase?: boolean;
}

/** The arm and version a unit is served (no unit: champion, and no exposure is logged). */
export function assign(r: Rollout, unit: string | null): { variant: Arm; version: string | null } {
  // Without a live experiment nobody is a challenger; a holdout may persist (the rollout's rule).
  let variant: Arm = unit === null ? 'champion' : r.variantOf(unit);
  if (variant === 'challenger' && r.challenger === null) variant = 'champion';
  return { variant, version: variant === 'holdout' ? null : variant === 'challenger' ? r.challenger : r.champion };
}

/**
 * Until the registry exists: the champion is the newest successful `recommend` training run,
 * there is no challenger and no holdout. The generation is that run's id.
 */
export function latestRunResolver(db: Db): Resolver {
  // `= +?`: kept prepared (docs/architecture.md, "Statements that stay prepared").
  const latest = db.prepare(`SELECT id, artifact_sha256 FROM training_runs WHERE shop = +? AND kind = 'recommend' AND status = 'succeeded' AND artifact_sha256 IS NOT NULL ORDER BY id DESC LIMIT 1`);
  return {
    inDatabase: true,
    generation: (shop) => (latest.get(shop) as { id: number } | undefined)?.id ?? 0,
    load(shop) {
      const row = latest.get(shop) as { artifact_sha256: string } | undefined;
      return { experiment: null, champion: row?.artifact_sha256 ?? null, challenger: null, variantOf: () => 'champion' };
    },
  };
}
