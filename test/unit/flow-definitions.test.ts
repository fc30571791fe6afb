// The Flow definitions (flow-actions/) and what is generated from them: the rules Shopify applies
// are enforced, the committed extension files are exactly what the generator writes, payload
// schemas accept what Flow sends and reject what it would refuse.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flowExtensionFiles } from '../../flow-actions/index.ts';
import { FLOW_ACTIONS, SCORE_CUSTOMER, TAG_CUSTOMER } from '../../flow-actions/actions.ts';
import { CHURN_RISK_ROSE, FLOW_TRIGGERS, MODEL_DRIFT_DETECTED, STOCK_OUT_PREDICTED, TRIGGER_LIFECYCLE } from '../../flow-actions/triggers.ts';
import { checkAction, checkTrigger, FlowDefinitionError } from '../../flow-actions/check.ts';
import { actionPropertiesSchema, returnValueSchema, triggerPayloadSchema } from '../../flow-actions/payload.ts';
import { renderFlowExtensions } from '../../flow-actions/render.ts';
import type { FlowActionDefinition, FlowTriggerDefinition } from '../../flow-actions/types.ts';
import { diffFlowExtensions, ROOT, writeFlowExtensions } from '../../scripts/gen-flow-extensions.ts';
import { loadFlowTriggers, readExtensionToml } from '../../simulator/flow-extensions.ts';

const trigger = (fields: unknown[], extra: Partial<FlowTriggerDefinition> = {}): FlowTriggerDefinition =>
  ({ kind: 'trigger', handle: 'test-trigger', name: 'Test', description: 'A test trigger', firesWhen: '-', fields, ...extra }) as FlowTriggerDefinition;

describe('the generator enforces what Shopify enforces', () => {
  it('accepts every shipped definition', () => {
    expect(() => flowExtensionFiles()).not.toThrow();
    expect(FLOW_TRIGGERS.map((t) => t.handle)).toEqual(['customer-segment-changed', 'churn-risk-rose', 'stock-out-predicted', 'model-drift-detected']);
    expect(FLOW_ACTIONS.map((a) => a.handle)).toEqual(['tag-customer-ml-segment', 'score-customer', 'send-order-to-shopml']);
  });

  it.each([
    ['an underscore', 'Churn_score'],
    ['a digit', 'Score 2'],
    ['a hyphen', 'Churn-score'],
    ['an empty key', ''],
    ['a leading space', ' Churn score'],
  ])('rejects a trigger key with %s', (_what, key) => {
    expect(() => checkTrigger(trigger([{ type: 'number_decimal', key }]))).toThrow(/letters and single spaces/);
  });

  it('rejects number_integer on a trigger (Shopify only refuses it at deploy, so the generator must)', () => {
    expect(() => checkTrigger(trigger([{ type: 'number_integer', key: 'Days' }]))).toThrow(/number_integer.*number_decimal/);
  });

  it.each(['multi_line_text_field', 'number', 'decimal', 'schema.Foo'])('rejects the unsupported trigger type %s', (type) => {
    expect(() => checkTrigger(trigger([{ type, key: 'Thing' }]))).toThrow(FlowDefinitionError);
  });

  it('rejects keys or names on reference fields, unsupported references, duplicate keys, long handles', () => {
    expect(() => checkTrigger(trigger([{ type: 'customer_reference', key: 'Customer' }]))).toThrow(/reference fields take no key/);
    expect(() => checkTrigger(trigger([{ type: 'marketing_activity_reference' }]))).toThrow(/not a trigger reference type/);
    expect(() => checkTrigger(trigger([{ type: 'number_decimal', key: 'Score' }, { type: 'number_decimal', key: 'score' }]))).toThrow(/share the payload key/);
    expect(() => checkTrigger(trigger([{ type: 'boolean', key: 'Ok' }], { handle: 'a-trigger-handle-that-is-far-too-long' }))).toThrow(/at most 30/);
    expect(() => checkTrigger(trigger([{ type: 'boolean', key: 'Ok' }], { handle: 'Bad_Handle' }))).toThrow(/handle/);
  });

  it('rejects bad action fields and return types', () => {
    const action = (fields: unknown[], returns?: unknown) =>
      ({ kind: 'action', handle: 'test-action', name: 'Test', description: 'd', fields, returns, handler: async () => ({}) }) as unknown as FlowActionDefinition<never>;
    expect(() => checkAction(action([{ type: 'single_line_text_field', key: 'Tag Prefix', name: 'x' }]))).toThrow(/snake_case/);
    expect(() => checkAction(action([{ type: 'single_line_text_field', key: 'tag_prefix' }]))).toThrow(/name is required/);
    expect(() => checkAction(action([{ type: 'customer_reference', key: 'customer' }]))).toThrow(/no key or name/);
    expect(() => checkAction(action([{ type: 'date', key: 'when', name: 'When' }]))).toThrow(/not supported on actions/);
    expect(() => checkAction(action([], { name: 'R', description: 'r', fields: [{ name: 'x', type: 'Date', description: 'x' }] }))).toThrow(/basic GraphQL type/);
    expect(() => checkAction(action([], { name: 'R', description: 'has "quotes"', fields: [{ name: 'x', type: 'Int', description: 'x' }] }))).toThrow(/quotes/);
  });

  it('stops generation with a message naming the extension', () => {
    const bad = trigger([{ type: 'number_integer', key: 'Count' }], { handle: 'bad-one' });
    expect(() => renderFlowExtensions([bad], FLOW_ACTIONS, TRIGGER_LIFECYCLE)).toThrow(/Flow extension "bad-one"/);
    expect(() => renderFlowExtensions([CHURN_RISK_ROSE, CHURN_RISK_ROSE], FLOW_ACTIONS, TRIGGER_LIFECYCLE)).toThrow(/used by two extensions/);
  });
});

describe('generated extension files', () => {
  const files = flowExtensionFiles();
  const byPath = new Map(files.map((f) => [f.path, f.content]));

  it('the committed files are exactly what the generator writes (run `npm run gen:flow` after changing flow-actions/)', () => {
    expect(diffFlowExtensions()).toEqual({ changed: [], stale: [] });
    for (const f of files) expect(readFileSync(join(ROOT, f.path), 'utf8')).toBe(f.content);
  });

  it('the diff notices an edited, a missing and a stale file, and writing repairs all three', () => {
    const root = mkdtempSync(join(tmpdir(), 'shopml-genflow-'));
    try {
      expect(writeFlowExtensions(files, root).changed).toHaveLength(files.length);
      const churn = files.find((f) => f.path.includes('churn-risk-rose'))!;
      const segment = files.find((f) => f.path.includes('customer-segment-changed'))!;
      writeFileSync(join(root, churn.path), churn.content.replace('Churn score', 'Churn Score'));
      rmSync(join(root, segment.path));
      mkdirSync(join(root, 'extensions/flow-old-trigger'), { recursive: true });
      writeFileSync(join(root, 'extensions/flow-old-trigger/shopify.extension.toml'), churn.content);
      mkdirSync(join(root, 'extensions/flow-merchant-made'), { recursive: true });
      writeFileSync(join(root, 'extensions/flow-merchant-made/shopify.extension.toml'), '[[extensions]]\nname = "mine"\n');
      const diff = diffFlowExtensions(files, root);
      expect(diff.changed.sort()).toEqual([churn.path, segment.path].sort());
      expect(diff.stale).toEqual(['extensions/flow-old-trigger']); // a folder the generator did not write is not its to delete
      writeFlowExtensions(files, root);
      expect(diffFlowExtensions(files, root)).toEqual({ changed: [], stale: [] });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('actions use relative runtime URLs; the lifecycle callback points at /flow/lifecycle', () => {
    for (const a of FLOW_ACTIONS) {
      const toml = byPath.get(`extensions/flow-${a.handle}/shopify.extension.toml`)!;
      expect(toml).toContain(`runtime_url = "/flow/actions/${a.handle}"`);
      expect(toml).not.toMatch(/https?:/);
    }
    const lc = readExtensionToml(byPath.get('extensions/flow-trigger-lifecycle/shopify.extension.toml')!);
    expect(lc.extensions[0]).toMatchObject({ type: 'flow_trigger_lifecycle_callback', url: '/flow/lifecycle' });
  });

  it('"Score customer" declares its return type with a schema file', () => {
    const toml = readExtensionToml(byPath.get('extensions/flow-score-customer/shopify.extension.toml')!);
    expect(toml.extensions[0]).toMatchObject({ schema: './schema.graphql', return_type_ref: 'CustomerScore' });
    const sdl = byPath.get('extensions/flow-score-customer/schema.graphql')!;
    expect(sdl).toMatch(/type CustomerScore \{/);
    for (const f of SCORE_CUSTOMER.returns!.fields) expect(sdl).toContain(`  ${f.name}: ${f.type}\n`);
  });

  it('trigger tomls carry the definitions: what the simulator (as Shopify) reads back equals the source', () => {
    const loaded = loadFlowTriggers(join(ROOT, 'extensions'));
    expect(loaded.map((t) => t.handle).sort()).toEqual(FLOW_TRIGGERS.map((t) => t.handle).sort());
    for (const t of FLOW_TRIGGERS) {
      const l = loaded.find((x) => x.handle === t.handle)!;
      expect(l.name).toBe(t.name);
      expect(l.fields).toEqual(t.fields.map((f) => ('key' in f ? { type: f.type, key: f.key } : { type: f.type })));
      for (const f of l.fields) if (f.type === 'number_decimal' || f.key) expect(f.key ?? '').toMatch(/^[A-Za-z ]+$/);
    }
  });
});

describe('payload schemas', () => {
  it('trigger payloads: exact keys and types, numeric ids, no extras', () => {
    const s = triggerPayloadSchema(STOCK_OUT_PREDICTED);
    expect(s.safeParse({ product_id: 7001, 'Days until stock out': 3, 'Suggested order quantity': 12 }).success).toBe(true);
    expect(s.safeParse({ product_id: '7001', 'Days until stock out': 3, 'Suggested order quantity': 12 }).success).toBe(false);
    expect(s.safeParse({ product_id: 7001, 'Days until stock out': '3', 'Suggested order quantity': 12 }).success).toBe(false);
    expect(s.safeParse({ product_id: 7001, 'Days until stock out': 3 }).success).toBe(false);
    expect(s.safeParse({ product_id: 7001, 'Days until stock out': 3, 'Suggested order quantity': 12, extra: 1 }).success).toBe(false);
    const d = triggerPayloadSchema(MODEL_DRIFT_DETECTED);
    expect(d.safeParse({ Model: 'churn', 'Drift share': 0.6 }).success).toBe(true);
    expect(d.safeParse({ Model: 'churn\nsegment', 'Drift share': 0.6 }).success).toBe(false);
    expect(d.safeParse({ Model: 'churn', 'Drift share': Number.NaN }).success).toBe(false);
  });

  it('action properties: ids as Flow sends them (numeric strings, numbers, GIDs), optional fields empty', () => {
    const s = actionPropertiesSchema(TAG_CUSTOMER);
    expect(s.parse({ customer_id: '123456', step_reference: 'abc' })).toEqual({ customer_id: '123456' });
    expect(s.parse({ customer_id: 123456, tag_prefix: '' })).toEqual({ customer_id: '123456' });
    expect(s.parse({ customer_id: 'gid://shopify/Customer/42', tag_prefix: 'vip-' })).toEqual({ customer_id: '42', tag_prefix: 'vip-' });
    expect(s.safeParse({ customer_id: 'gid://shopify/Order/42' }).success).toBe(false);
    expect(s.safeParse({ customer_id: 'abc' }).success).toBe(false);
    expect(s.safeParse({}).success).toBe(false);
  });

  it('return values match the declared type (nullable unless `!`)', () => {
    const r = returnValueSchema(SCORE_CUSTOMER.returns!);
    expect(r.safeParse({ segment: null, segmentTag: null, churnRisk: null, predictedValue: null, scored: false }).success).toBe(true);
    expect(r.safeParse({ segment: 'Loyal', segmentTag: 'shopml:loyal', churnRisk: 0.2, predictedValue: 31.5, scored: true }).success).toBe(true);
    expect(r.safeParse({ segment: 'Loyal', segmentTag: 'shopml:loyal', churnRisk: 0.2, predictedValue: 31.5 }).success).toBe(false);
    expect(r.safeParse({ segment: 1, segmentTag: null, churnRisk: null, predictedValue: null, scored: true }).success).toBe(false);
  });
});
