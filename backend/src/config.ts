// Environment → typed, validated configuration. A bad or missing value stops start-up with one
// line naming the variable; secret values never appear in messages.
import { resolve } from 'node:path';

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
  };
}

/** Only what is safe to print: no secrets, no tokens. */
export function describeConfig(c: Config): Record<string, unknown> {
  return {
    apiKey: c.apiKey, scopes: c.scopes.join(','), appUrl: c.appUrl, port: c.port, host: c.host,
    databasePath: c.databasePath, busyTimeoutMs: c.busyTimeoutMs, artifactsDir: c.artifactsDir, adminBaseUrl: c.adminBaseUrl, logLevel: c.logLevel,
  };
}
