// The canary as one service the CLI, the API, the scheduler and training all use:
//
//   planFor        what the shop's traffic says a canary would take (time to decision, 8-week warning)
//   startCanary    challenger alias → a running experiment (holdout + challenger share), with the plan
//   canaryStatus   the live (or last) experiment: report, what the policy would do now, decision log
//   decideCanary   a person's promote / rollback / stop, with the figures of the moment
//   runPolicies    every live experiment evaluated and acted on (the scheduled job)
//   reconcile      an experiment whose versions no longer match the registry's aliases is stopped
//                  (a manual alias move, or a retrain that set a new challenger): traffic is never
//                  split between versions the experiment does not record.
//   afterTraining  the gate made a new `recommend` challenger → it meets traffic as a canary; a new
//                  segment / churn / forecast challenger → a shadow evaluation (rollout/shadow.ts).
//
// Alias moves go through the registry (alias history with the deciding figures); experiment
// status and decision log through rollout/experiments.ts. One transaction per step.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { currentAliases, moveAlias, promote as promoteAlias } from '../registry/aliases.ts';
import { resolveVersion, RegistryError } from '../registry/versions.ts';
import { DEFAULT_SPLIT, validateSplit } from './bucket.ts';
import { SHADOW_KINDS, startShadow, type Shadow } from './shadow.ts';
import {
  activeExperiment, decisionLog, DEFAULT_CONFIG, getExperiment, listExperiments, LIVE_STATUSES, logDecision, setExperimentStatus, startExperiment,
  type Experiment, type LoggedDecision,
} from './experiments.ts';
import {
  decide, experimentReport, manualDecision, planCanary, runPolicy, trafficBaseline,
  type CanaryPlan, type Decision, type ExperimentReport, type MoveAlias, type PolicyDeps, type PolicyRun, type TrafficBaseline,
} from './policy.ts';

/** The kind with storefront traffic to split; the others run their challengers in shadow. */
export const CANARY_KIND: ModelKind = 'recommend';

/** The policy's alias moves, recorded by the registry with the figures that decided. */
export function registryMoveAlias(db: Db, now: () => Date = () => new Date()): MoveAlias {
  return (shop, kind, alias, to, reason, actor, figures, ctx) => {
    moveAlias(db, { shop, kind: kind as ModelKind, alias, to, reason, actor, figures, action: ctx.action, expectFrom: ctx.expectFrom, at: now().toISOString() });
  };
}

export interface PlanOptions {
  holdoutPct?: number;
  challengerPct?: number;
  /** Minimum relative lift worth finding (default 0.2). */
  mdeRel?: number;
  alpha?: number;
}

export interface CanaryPlanReport {
  traffic: TrafficBaseline;
  /** Baseline conversion used: the last experiment's champion arm, else the default assumption. */
  baselineRate: number;
  baselineSource: 'previous_experiment' | 'assumed';
  /** Null when the shop has no recorded storefront traffic yet. */
  plan: CanaryPlan | null;
  /** Set when the decision would take more than 8 weeks, or cannot be estimated. */
  warning: string | null;
}

/** The time-to-decision estimate from the shop's own recent traffic, before anything starts. */
export function planFor(db: Db, shop: string, kind: ModelKind, now: Date, o: PlanOptions = {}): CanaryPlanReport {
  const split = { holdoutPct: o.holdoutPct ?? DEFAULT_SPLIT.holdoutPct, challengerPct: o.challengerPct ?? DEFAULT_SPLIT.challengerPct };
  validateSplit(split);
  const traffic = trafficBaseline(db, shop, kind, now);
  const baselineRate = traffic.baselineRate ?? DEFAULT_CONFIG.baselineRate;
  const baselineSource = traffic.baselineRate !== null ? 'previous_experiment' : 'assumed';
  if (traffic.dailyUnits === null || !(traffic.dailyUnits > 0) || split.challengerPct <= 0) {
    return {
      traffic, baselineRate, baselineSource, plan: null,
      warning: split.challengerPct <= 0 ? 'a canary needs a challenger share above 0%'
        : 'no storefront traffic recorded in the last 28 days: the time to a decision cannot be estimated yet',
    };
  }
  const plan = planCanary({ baselineRate, dailyUnits: traffic.dailyUnits, ...split, mdeRel: o.mdeRel, alpha: o.alpha });
  return { traffic, baselineRate, baselineSource, plan, warning: plan.estimate.warning };
}

export class CanaryError extends Error {
  readonly code: 'no_champion' | 'no_challenger' | 'conflict' | 'invalid';
  constructor(code: CanaryError['code'], message: string) {
    super(message);
    this.name = 'CanaryError';
    this.code = code;
  }
}

export interface StartCanaryInput extends PlanOptions {
  shop: string;
  kind?: ModelKind;
  /** Make this registered version the challenger first (default: the current challenger alias). */
  version?: string;
  actor: string;
  now: Date;
  reason?: string;
  /** Hash seed (tests); default random. */
  salt?: string;
}

export interface CanaryStart {
  experiment: Experiment;
  plan: CanaryPlanReport;
}

/** Starts a canary of the challenger against the champion; one live experiment per (shop, kind). */
export function startCanary(db: Db, input: StartCanaryInput): CanaryStart {
  const kind = input.kind ?? CANARY_KIND;
  if (kind !== CANARY_KIND) throw new CanaryError('invalid', `${kind} has no storefront traffic to split: its challenger runs in shadow (see docs/rollout.md)`);
  return db.transaction((): CanaryStart => {
    reconcile(db, input.shop, kind, input.now);
    const live = activeExperiment(db, input.shop, kind);
    if (live) throw new CanaryError('conflict', `a ${kind} canary is already live for ${input.shop} (#${live.id}); promote, roll back or stop it first`);
    if (input.version !== undefined) {
      const version = resolveVersion(db, input.shop, kind, input.version);
      promoteAlias(db, { shop: input.shop, kind, version, to: 'challenger', reason: input.reason ?? 'challenger for a canary', actor: input.actor, at: input.now.toISOString() });
    }
    const { champion, challenger } = currentAliases(db, input.shop, kind);
    if (!champion) throw new CanaryError('no_champion', `${input.shop} has no ${kind} champion yet: train first`);
    if (!challenger) throw new CanaryError('no_challenger', `${input.shop} has no ${kind} challenger: train a new version (the gate sets it) or pass a version`);
    const plan = planFor(db, input.shop, kind, input.now, input);
    const experiment = startExperiment(db, {
      shop: input.shop, kind, championVersion: champion, challengerVersion: challenger,
      holdoutPct: input.holdoutPct, challengerPct: input.challengerPct, salt: input.salt,
      config: plan.plan?.config ?? { baselineRate: plan.baselineRate, mdeRel: input.mdeRel ?? DEFAULT_CONFIG.mdeRel, alpha: input.alpha ?? DEFAULT_CONFIG.alpha },
      at: input.now, actor: input.actor,
      figures: { plan: plan.plan?.estimate ?? null, traffic: plan.traffic, baselineRate: plan.baselineRate, baselineSource: plan.baselineSource, warning: plan.warning },
    });
    return { experiment, plan };
  })();
}

/**
 * Stops the live experiment of (shop, kind) when the registry's aliases no longer match the
 * versions it compares (someone promoted or rolled back by hand, or a retrain set a newer
 * challenger). Returns the stopped experiment, if any.
 */
export function reconcile(db: Db, shop: string, kind: ModelKind, now: Date, actor = 'system'): Experiment | null {
  const live = activeExperiment(db, shop, kind);
  if (!live) return null;
  const { champion, challenger } = currentAliases(db, shop, kind);
  if (champion === live.championVersion && challenger === live.challengerVersion) return null;
  const reason = `aliases moved outside the experiment (champion ${short(champion)}, challenger ${short(challenger)}; the experiment compared ${short(live.championVersion)} with ${short(live.challengerVersion)})`;
  return db.transaction(() => {
    const e = setExperimentStatus(db, live.id, 'stopped', reason, now);
    logDecision(db, { experimentId: live.id, shop, at: now, action: 'stop', reason, actor, figures: { rule: 'superseded', champion, challenger } });
    return e;
  })();
}

const short = (v: string | null): string => (v ? v.slice(0, 12) : 'unset');

export interface CanaryStatus {
  experiment: Experiment;
  live: boolean;
  report: ExperimentReport;
  /** What the policy would do if it ran now (live experiments only). */
  next: Decision | null;
  decisions: LoggedDecision[];
}

/** The live experiment of (shop, kind), else the most recent one; null if none ever ran. */
export function canaryStatus(db: Db, shop: string, kind: ModelKind, now: Date, experimentId?: number): CanaryStatus | null {
  const e = experimentId !== undefined ? getExperiment(db, experimentId) : activeExperiment(db, shop, kind) ?? listExperiments(db, shop, kind)[0] ?? null;
  if (!e || e.shop !== shop) return null;
  const report = experimentReport(db, e.id, now);
  const live = LIVE_STATUSES.includes(e.status);
  return { experiment: e, live, report, next: live ? decide(report, e.config) : null, decisions: decisionLog(db, e.id) };
}

export interface DecideCanaryInput {
  shop: string;
  kind?: ModelKind;
  action: 'promote' | 'rollback' | 'stop';
  actor: string;
  reason?: string;
  now: Date;
}

/** A person's decision on the live canary, with the current figures in both logs. */
export function decideCanary(db: Db, input: DecideCanaryInput): PolicyRun {
  const kind = input.kind ?? CANARY_KIND;
  reconcile(db, input.shop, kind, input.now);
  const live = activeExperiment(db, input.shop, kind);
  if (!live) throw new CanaryError('conflict', `no live ${kind} canary for ${input.shop}`);
  const deps: PolicyDeps & { actor: string; reason?: string } = { moveAlias: registryMoveAlias(db, () => input.now), now: () => input.now, actor: input.actor, reason: input.reason };
  try {
    return manualDecision(db, live.id, input.action, deps);
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'conflict') throw new CanaryError('conflict', err.message);
    throw err;
  }
}

/** Evaluates every live experiment (all shops, or one) and acts: the scheduled policy job. */
export function runPolicies(db: Db, now: Date, shop?: string): PolicyRun[] {
  const ids = (shop === undefined
    ? db.prepare(`SELECT id, shop, kind FROM rollout_experiments WHERE status IN ('running', 'broken') ORDER BY id`).all()
    : db.prepare(`SELECT id, shop, kind FROM rollout_experiments WHERE shop = ? AND status IN ('running', 'broken') ORDER BY id`).all(shop)) as { id: number; shop: string; kind: ModelKind }[];
  const runs: PolicyRun[] = [];
  for (const { id, shop: s, kind } of ids) {
    if (reconcile(db, s, kind, now)) continue;
    runs.push(runPolicy(db, id, { moveAlias: registryMoveAlias(db, () => now), now: () => now }));
  }
  return runs;
}

export interface TrainedRun {
  kind: ModelKind;
  status: string;
  version: string | null;
  decision?: { decision: string; reason: string; stoppedExperiment?: number };
}

export interface AfterTraining {
  /** The canary started for a new recommend challenger. */
  canary: CanaryStart | null;
  /** A live experiment stopped because the challenger it tested was replaced (training stops it in its own transaction; this is the experiment it stopped). */
  superseded: Experiment | null;
  /** Why no canary started although there is a challenger (e.g. auto-canary off). */
  note: string | null;
  /** Shadow evaluations started for new segment / churn / forecast challengers. */
  shadows: Shadow[];
}

/**
 * After a training pass: a live experiment whose challenger was replaced is stopped; a new
 * recommend challenger starts a canary when `autoCanary` (default on: "a new model first meets a
 * small share of traffic").
 */
export function afterTraining(db: Db, shop: string, runs: readonly TrainedRun[], now: Date, o: { autoCanary?: boolean; split?: PlanOptions; artifactsDir?: string } = {}): AfterTraining {
  const challenged = (kind: ModelKind) => runs.some((r) => r.kind === kind && r.status === 'succeeded' && r.decision?.decision === 'challenger');
  const shadows: Shadow[] = [];
  if (o.artifactsDir !== undefined) {
    for (const kind of SHADOW_KINDS) {
      if (!challenged(kind)) continue;
      const sh = startShadow(db, shop, kind, now, o.artifactsDir);
      if (sh) shadows.push(sh);
    }
  }
  const stoppedId = runs.find((r) => r.kind === CANARY_KIND)?.decision?.stoppedExperiment;
  const superseded = reconcile(db, shop, CANARY_KIND, now, 'training') ?? (stoppedId === undefined ? null : getExperiment(db, stoppedId));
  if (!challenged(CANARY_KIND)) return { canary: null, superseded, note: null, shadows };
  if (o.autoCanary === false) return { canary: null, superseded, note: 'auto canary is off: start it with `shopml canary start`', shadows };
  if (activeExperiment(db, shop, CANARY_KIND)) return { canary: null, superseded, note: 'a canary is already live for this challenger', shadows };
  const canary = startCanary(db, { shop, kind: CANARY_KIND, actor: 'training', now, ...o.split });
  return { canary, superseded, note: null, shadows };
}
