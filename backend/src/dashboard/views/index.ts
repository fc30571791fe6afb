// The whole dashboard of one shop as one plain object: what the page renders and what
// GET /dashboard/api/overview answers. Every figure comes from the modules that own it.
import type { Db } from '../../store/db.ts';
import { shopStatus } from '../../store/status.ts';
import { aliasTimelines, modelsView, recentMoves, recentRuns, runComparison } from './registry.ts';
import { rolloutView } from './rollout.ts';
import { qualityView } from './quality.ts';
import { segmentsView } from './segments.ts';
import { forecastView } from './forecast.ts';
import { controlsView } from './controls.ts';
import { jobsView } from './jobs.ts';
import { driftView } from './drift.ts';
import type { SummaryCache } from './artifact-summaries.ts';

export interface ViewContext {
  db: Db;
  artifactsDir: string;
  cache: SummaryCache;
  now: Date;
}

/** Shops the operator can pick: installed, or with any stored data or model. */
export function knownShops(db: Db): string[] {
  return db.prepare(`SELECT shop FROM shops UNION SELECT DISTINCT shop FROM orders UNION SELECT DISTINCT shop FROM model_versions
    UNION SELECT DISTINCT shop FROM dataset_snapshots ORDER BY 1`).pluck().all() as string[];
}

export function overview(ctx: ViewContext, shop: string, opts: { compare?: number[] } = {}) {
  const { db, now } = ctx;
  const status = shopStatus(db, shop)[0]!;
  return {
    shop,
    asOf: now.toISOString(),
    counts: { orders: status.orders, customers: status.customers, products: status.products, events: status.events, quarantined: status.quarantined },
    models: modelsView(db, shop),
    aliasTimelines: aliasTimelines(db, shop, now),
    moves: recentMoves(db, shop),
    runs: recentRuns(db, shop),
    comparison: runComparison(db, shop, opts.compare),
    rollout: rolloutView(db, shop, now),
    quality: qualityView(db, shop),
    segments: segmentsView(db, shop, ctx.artifactsDir, ctx.cache),
    forecast: forecastView(db, shop, ctx.artifactsDir, ctx.cache),
    controls: controlsView(db, shop),
    drift: driftView(db, shop),
    jobs: jobsView(db, shop),
  };
}

export type Overview = ReturnType<typeof overview>;
