import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../backend/src/config.ts';
import { testEnv } from '../helpers/backend.ts';

const env = testEnv('/tmp/shopml-config-test');

describe('configuration', () => {
  it('loads a valid environment with defaults', () => {
    const { DATABASE_PATH: _d, ARTIFACTS_DIR: _a, PORT: _p, ...rest } = env;
    const c = loadConfig(rest);
    expect(c.port).toBe(8080);
    expect(c.databasePath).toMatch(/data\/shopml\.db$/);
    expect(c.artifactsDir).toMatch(/data\/artifacts$/);
    expect(c.scopes).toContain('read_all_orders');
    expect(c.redactInlineMaxEvents).toBe(20_000);
    expect(loadConfig({ ...rest, SHOPML_REDACT_INLINE_EVENTS: '0' }).redactInlineMaxEvents).toBe(0);
  });

  it.each([
    ['SHOPIFY_API_KEY', undefined, /SHOPIFY_API_KEY is required/],
    ['SHOPIFY_API_SECRET', 'short', /SHOPIFY_API_SECRET must be at least/],
    ['SHOPIFY_APP_URL', 'not a url', /SHOPIFY_APP_URL must be an absolute URL/],
    ['PORT', '80a', /PORT must be a whole number/],
    ['PORT', '70000', /PORT must be a whole number from 0 to 65535/],
    ['SHOPML_SECRET_KEY', undefined, /SHOPML_SECRET_KEY is required/],
    ['SHOPML_ADMIN_TOKEN', 'abc', /SHOPML_ADMIN_TOKEN must be at least 16/],
    ['SCOPES', 'read_orders,drop tables', /SCOPES has an invalid scope/],
    ['SHOPML_PROMOTION_TOLERANCE', '{recommend: 0.02', /SHOPML_PROMOTION_TOLERANCE is invalid: .*must be JSON/],
    ['SHOPML_PROMOTION_TOLERANCE', '{"ranking": 0.02}', /unknown kind: ranking/],
    ['SHOPML_QUALITY_THRESHOLDS', '[1', /SHOPML_QUALITY_THRESHOLDS is invalid/],
    ['SHOPML_DRIFT_ALPHA', '2', /SHOPML_DRIFT_ALPHA is invalid/],
    ['SHOPML_DRIFT_METHOD', 'magic', /SHOPML_DRIFT_METHOD is invalid/],
    ['SHOPML_AUTO_CANARY', 'maybe', /SHOPML_AUTO_CANARY must be on or off/],
    ['SHOPML_REDACT_INLINE_EVENTS', '-5', /SHOPML_REDACT_INLINE_EVENTS must be a whole number/],
  ])('stops on a bad %s with one line naming it', (name, value, message) => {
    const e = { ...env, [name]: value };
    if (value === undefined) delete e[name as keyof typeof e];
    let err: unknown;
    try { loadConfig(e); } catch (x) { err = x; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message.split('\n')).toHaveLength(1);
  });

  it('never puts a secret in an error or in the printable summary', () => {
    const secret = 'x'.repeat(5);
    let msg = '';
    try { loadConfig({ ...env, SHOPML_SECRET_KEY: secret }); } catch (x) { msg = (x as Error).message; }
    expect(msg).not.toContain(secret);
    const printable = JSON.stringify(describeConfig(loadConfig(env)));
    for (const k of ['SHOPIFY_API_SECRET', 'SHOPML_SECRET_KEY', 'SHOPML_ADMIN_TOKEN'] as const) expect(printable).not.toContain(env[k]);
  });
});
