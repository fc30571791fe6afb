// Environment → typed, validated configuration. A bad or missing value stops start-up with one
// line naming the variable; secret values never appear in messages.
import { resolve } from 'node:path';
import { REDACT_INLINE_MAX_EVENTS } from './ingest/compliance.ts';
import { gatePolicyFromEnv } from './registry/gate.ts';
import { parseThresholds } from './quality/gate.ts';
import { SETTING_SPECS, settingsFromEnv } from './monitor/settings.ts';

export interface Config {
  apiKey: string;
  apiSecret: string;
  scopes: string[];
  appUrl: string;
  port: number;
  host: string;
  databasePath: string;
  artifactsDir: string;
  secretKey: string;
  adminToken: string;
  /** Where the Admin API lives; `{shop}` is replaced by the myshopify domain. */
  adminBaseUrl: string;
  logLevel: string;
  /** How long a write waits for a lock held elsewhere before answering 503 (ms). */
  busyTimeoutMs: number;
  /**
   * SHOPML_REDACT_INLINE_EVENTS: up to this many rows in the event log, customers/redact reads the
   * log and the orders inside its own transaction; past it, in steps afterwards (ingest/compliance.ts).
   */
  redactInlineMaxEvents?: number;
  /**
   * SHOPML_TRUST_PROXY: how many proxies in front of shopml append to X-Forwarded-For (default 1:
   * the platform's load balancer; 0 when clients connect directly). Client IPs (login and auth
   * rate limits) and https detection come from the entry that many hops from the right.
   */
  trustProxyHops?: number;
  /** Background jobs and the retraining schedule (docs/jobs.md). */
  jobs: JobsConfig;
}

export interface JobsConfig {
  /** SHOPML_JOBS=off: `serve` runs no job runner and no scheduler. */
  enabled: boolean;
  concurrency: number;
  trainConcurrency: number;
  leaseSeconds: number;
  maxAttempts: number;
  retrainIntervalDays: number;
  retrainMinNewOrders: number;
  retrainMinGapMinutes: number;
  schedulerTickSeconds: number;
  /** SHOPML_AUTO_CANARY: a new recommend challenger starts a canary by itself (default on). */
  autoCanary: boolean;
  /** Shares (percent) of that canary: SHOPML_CANARY_HOLDOUT_PCT (5) and SHOPML_CANARY_CHALLENGER_PCT (5). */
  canaryHoldoutPct: number;
  canaryChallengerPct: number;
  /** How often live canaries and running shadows are evaluated (0 = never by itself). */
  policyIntervalMinutes: number;
  /** How often the drift / accuracy / KPI monitor runs per shop (0 = never by itself). */
  monitorIntervalHours: number;
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`configuration error: ${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export const DEFAULT_SCOPES =
  'read_orders,read_all_orders,read_products,read_inventory,read_customers,write_customers,write_app_proxy';

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new ConfigError(name, 'is required but not set');
  return v.trim();
}

function secret(env: Env, name: string, minLength: number): string {
  const v = required(env, name);
  if (v.length < minLength) throw new ConfigError(name, `must be at least ${minLength} characters (got ${v.length})`);
  return v;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got ${n})`);
  return n;
}

function url(env: Env, name: string, fallback?: string): string {
  const raw = env[name]?.trim() || fallback;
  if (raw === undefined) throw new ConfigError(name, 'is required but not set');
  let u: URL;
  try {
    u = new URL(raw.replace('{shop}', 'shop.myshopify.com'));
  } catch {
    throw new ConfigError(name, `must be an absolute URL (got "${raw}")`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ConfigError(name, `must be an http(s) URL (got "${raw}")`);
  return raw.replace(/\/+$/, '');
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  if (['off', 'false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be on or off (got "${env[name]}")`);
}

function jobsConfig(env: Env): JobsConfig {
  return {
    enabled: onOff(env, 'SHOPML_JOBS', true),
    concurrency: integer(env, 'SHOPML_JOBS_CONCURRENCY', 2, 1, 64),
    trainConcurrency: integer(env, 'SHOPML_JOBS_TRAIN_CONCURRENCY', 1, 1, 64),
    leaseSeconds: integer(env, 'SHOPML_JOBS_LEASE_SECONDS', 60, 1, 3600),
    maxAttempts: integer(env, 'SHOPML_JOBS_MAX_ATTEMPTS', 5, 1, 100),
    retrainIntervalDays: integer(env, 'SHOPML_RETRAIN_INTERVAL_DAYS', 7, 0, 365),
    retrainMinNewOrders: integer(env, 'SHOPML_RETRAIN_MIN_NEW_ORDERS', 500, 0, 100_000_000),
    retrainMinGapMinutes: integer(env, 'SHOPML_RETRAIN_MIN_GAP_MINUTES', 60, 0, 10_080),
    schedulerTickSeconds: integer(env, 'SHOPML_SCHEDULER_TICK_SECONDS', 60, 1, 86_400),
    autoCanary: onOff(env, 'SHOPML_AUTO_CANARY', true),
    canaryHoldoutPct: integer(env, 'SHOPML_CANARY_HOLDOUT_PCT', 5, 0, 50),
    canaryChallengerPct: integer(env, 'SHOPML_CANARY_CHALLENGER_PCT', 5, 1, 50),
    policyIntervalMinutes: integer(env, 'SHOPML_POLICY_INTERVAL_MINUTES', 60, 0, 10_080),
    monitorIntervalHours: integer(env, 'SHOPML_MONITOR_INTERVAL_HOURS', 24, 0, 8_760),
  };
}

export function loadConfig(env: Env = process.env): Config {
  const scopes = (env.SCOPES?.trim() || DEFAULT_SCOPES).split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of scopes) if (!/^(read|write|unauthenticated_read|unauthenticated_write)_[a-z_]+$/.test(s)) {
    throw new ConfigError('SCOPES', `has an invalid scope "${s}" (expected e.g. read_orders,write_customers)`);
  }
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of fatal, error, warn, info, debug, trace, silent (got "${logLevel}")`);
  }
  const host = env.HOST?.trim() || '127.0.0.1';
  return {
    apiKey: required(env, 'SHOPIFY_API_KEY'),
    apiSecret: secret(env, 'SHOPIFY_API_SECRET', 8),
    scopes,
    appUrl: url(env, 'SHOPIFY_APP_URL'),
    port: integer(env, 'PORT', 8080, 0, 65535),
    host,
    databasePath: resolve(env.DATABASE_PATH?.trim() || './data/shopml.db'),
    artifactsDir: resolve(env.ARTIFACTS_DIR?.trim() || './data/artifacts'),
    secretKey: secret(env, 'SHOPML_SECRET_KEY', 32),
    adminToken: secret(env, 'SHOPML_ADMIN_TOKEN', 16),
    adminBaseUrl: url(env, 'SHOPIFY_ADMIN_BASE_URL', 'https://{shop}'),
    logLevel,
    busyTimeoutMs: integer(env, 'SQLITE_BUSY_TIMEOUT_MS', 2000, 0, 60_000),
    redactInlineMaxEvents: integer(env, 'SHOPML_REDACT_INLINE_EVENTS', REDACT_INLINE_MAX_EVENTS, 0, 1_000_000_000),
    trustProxyHops: integer(env, 'SHOPML_TRUST_PROXY', 1, 0, 10),
    jobs: jobsConfig(env),
    ...checkModelSettings(env),
  };
}

/**
 * The model-side settings are read where they are used (training, the monitor, in worker threads
 * too); here they are only checked, so a malformed value stops start-up instead of failing the
 * first training hours later.
 */
function checkModelSettings(env: Env): Record<never, never> {
  const check = (name: string, f: () => unknown) => {
    if (env[name] === undefined || env[name]!.trim() === '') return;
    try {
      f();
    } catch (err) {
      throw new ConfigError(name, `is invalid: ${(err as Error).message}`);
    }
  };
  check('SHOPML_PROMOTION_TOLERANCE', () => gatePolicyFromEnv(env));
  check('SHOPML_QUALITY_THRESHOLDS', () => parseThresholds(env.SHOPML_QUALITY_THRESHOLDS!, 'SHOPML_QUALITY_THRESHOLDS'));
  for (const spec of SETTING_SPECS) check(spec.env, () => settingsFromEnv({ [spec.env]: env[spec.env] }));
  check('SHOPML_DRIFT_METHOD', () => settingsFromEnv({ SHOPML_DRIFT_METHOD: env.SHOPML_DRIFT_METHOD }));
  return {};
}

/** Only what is safe to print: no secrets, no tokens. */
export function describeConfig(c: Config): Record<string, unknown> {
  return {
    apiKey: c.apiKey, scopes: c.scopes.join(','), appUrl: c.appUrl, port: c.port, host: c.host,
    databasePath: c.databasePath, busyTimeoutMs: c.busyTimeoutMs, redactInlineMaxEvents: c.redactInlineMaxEvents, trustProxyHops: c.trustProxyHops, artifactsDir: c.artifactsDir, adminBaseUrl: c.adminBaseUrl, logLevel: c.logLevel,
    jobs: c.jobs,
  };
}
