// Serving's seams (Resolver, ExposureSink, ServingSink, ConversionSink) implemented with the
// model registry (backend/src/registry/) and the rollout engine (backend/src/rollout/). This is
// the only file of serving and tracking that imports them; everything else codes against the
// interfaces, and tests can inject their own.
//
//   resolver    champion / challenger = the registry's aliases for kind `recommend` (a shop
//               trained before the registry existed: its newest successful run is the champion);
//               arms = the rollout engine's `armsFor` (live experiment's salt and shares; no live
//               experiment: the last holdout stays, nobody is a challenger). The generation is
//               the registry's alias generation and the rollout's decision counter, read together
//               in one statement per request.
//   exposures   rollout `recordExposures` (first exposure per unit and arm, live experiments only)
//   serving     rollout `recordServing` (requests, errors, latency per arm, for the guardrails)
//   conversions rollout `recordConversion` (per order, unit and arm, live experiments only)
import type { Db } from '../store/db.ts';
import { getAlias } from '../registry/aliases.ts';
import { armsFor, recordConversion, recordExposures, recordServing } from '../rollout/experiments.ts';
import type { ConversionSink } from '../track/conversions.ts';
import { latestRunResolver, type Resolver } from './resolver.ts';
import type { ExposureSink, ServingSink } from './state.ts';

const KIND = 'recommend';

export function registryResolver(db: Db): Resolver {
  // `= +@shop`: one statement per request, kept prepared (docs/architecture.md, "Statements that stay prepared").
  const generation = db.prepare(`SELECT (SELECT generation FROM alias_generations WHERE shop = +@shop) AS a,
    (SELECT max(id) FROM rollout_decisions WHERE shop = +@shop) AS e`);
  const latest = latestRunResolver(db);
  return {
    inDatabase: true,
    generation(shop) {
      const r = generation.get({ shop }) as { a: number | null; e: number | null };
      return `${r.a ?? 0}.${r.e ?? 0}`;
    },
    load(shop) {
      const champion = getAlias(db, shop, KIND, 'champion') ?? latest.load(shop).champion;
      const challenger = getAlias(db, shop, KIND, 'challenger');
      const arms = armsFor(db, shop, KIND);
      return { experiment: arms.experimentId, champion, challenger: challenger === champion ? null : challenger, variantOf: arms.variantOf };
    },
  };
}

export const rolloutExposureSink: ExposureSink = {
  record(db, batch) {
    recordExposures(db, batch.map((e) => ({ shop: e.shop, experimentId: e.experiment, unit: e.unit, variant: e.variant, at: e.at, customerId: e.customerId })));
  },
};

export const rolloutServingSink: ServingSink = {
  record(db, counts) {
    for (const c of counts) {
      recordServing(db, c.shop, c.experiment, c.variant, { requests: c.requests, errors: c.errors, latencyMsSum: c.latencyMsSum, slowRequests: c.slowRequests }, c.at);
    }
  },
};

export const rolloutConversionSink: ConversionSink = {
  record(db, c) {
    // Only lists served under a live experiment, to a known unit, by an arm (not the fallback).
    if (c.experiment === null || c.unit === null || c.variant === 'fallback') return;
    recordConversion(db, c.shop, c.experiment, c.unit, c.variant, c.revenue, c.at, c.orderId);
  },
};
