// Payload schemas (zod) derived from the Flow definitions: what shopml sends with
// flowTriggerReceive, what an action request's `properties` must hold, and what an action returns.
import { z } from 'zod';
import { isReference, payloadKey } from './check.ts';
import type { ActionField, FlowActionDefinition, FlowTriggerDefinition, ReturnType, TriggerField } from './types.ts';

/** Shopify's documented payload limit for flowTriggerReceive. */
export const TRIGGER_PAYLOAD_MAX_BYTES = 50_000;

/** Flow object ids go out as numbers (Shopify ids fit in 2^53). */
const objectId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

function triggerValue(f: TriggerField): z.ZodType {
  if (isReference(f)) return objectId;
  switch (f.type) {
    case 'number_decimal': return z.number().refine(Number.isFinite, 'must be a finite number');
    case 'boolean': return z.boolean();
    case 'email': return z.email();
    case 'url': return z.url();
    case 'single_line_text_field': return z.string().max(255).refine((s) => !/[\r\n]/.test(s), 'must be a single line');
  }
}

/** Strict: every field present with the right type, nothing else (a mismatch is a bug in shopml). */
export function triggerPayloadSchema(def: FlowTriggerDefinition): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const f of def.fields) shape[payloadKey(f)] = triggerValue(f);
  return z.strictObject(shape).refine((p) => Buffer.byteLength(JSON.stringify(p)) <= TRIGGER_PAYLOAD_MAX_BYTES, {
    message: `payload exceeds ${TRIGGER_PAYLOAD_MAX_BYTES} bytes`,
  }) as unknown as z.ZodType<Record<string, unknown>>;
}

/**
 * A reference property as Flow sends it: the documented example is a numeric string ("123456");
 * numbers and GIDs of the right type are accepted too. Always parsed to the numeric id string.
 */
function referenceId(objectType: string): z.ZodType<string> {
  const gidType = objectType.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  const gid = new RegExp(`^gid://shopify/${gidType}/(\\d+)$`);
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const s = String(v).trim();
    if (/^\d{1,16}$/.test(s) && Number(s) > 0) return s;
    const m = gid.exec(s);
    if (m) return m[1]!;
    ctx.addIssue({ code: 'custom', message: `not a ${gidType} id: ${JSON.stringify(v)}` });
    return z.NEVER;
  });
}

function actionValue(f: ActionField): z.ZodType {
  if (isReference(f)) return referenceId(f.type.slice(0, -'_reference'.length));
  // Flow sends values as strings in its documented example; numbers are parsed from either form.
  const num = (int: boolean) => z.union([z.number(), z.string().trim().min(1)]).transform((v, ctx) => {
    const n = Number(v);
    if (!Number.isFinite(n) || (int && !Number.isInteger(n))) {
      ctx.addIssue({ code: 'custom', message: `not ${int ? 'an integer' : 'a number'}: ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });
  switch (f.type) {
    case 'number_decimal': return num(false);
    case 'number_integer': return num(true);
    case 'boolean': return z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);
    case 'email': return z.email();
    case 'url': return z.url();
    case 'single_line_text_field': return z.string().max(255).refine((s) => !/[\r\n]/.test(s), 'must be a single line');
    case 'multi_line_text_field': return z.string().max(65_535);
  }
}

/**
 * The `properties` of an action request. Not strict: Flow adds its own keys (`step_reference`).
 * Optional fields may be absent, null or an empty string (what Flow sends for an empty input);
 * all three parse to undefined.
 */
export function actionPropertiesSchema<P>(def: FlowActionDefinition<P>): z.ZodType<P> {
  const shape: Record<string, z.ZodType> = {};
  for (const f of def.fields) {
    const v = actionValue(f);
    shape[payloadKey(f)] = f.required ? v : z.preprocess((x) => (x === null || x === '' ? undefined : x), v.optional());
  }
  return z.object(shape) as unknown as z.ZodType<P>;
}

function returnFieldSchema(type: string): z.ZodType {
  const base = type.replace(/!$/, '');
  const s = base === 'Float' ? z.number().refine(Number.isFinite, 'must be finite')
    : base === 'Int' ? z.number().int()
    : base === 'Boolean' ? z.boolean()
    : z.string();
  return type.endsWith('!') ? s : s.nullable();
}

/** What an action with a return type must answer under `return_value`. */
export function returnValueSchema(r: ReturnType): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const f of r.fields) shape[f.name] = returnFieldSchema(f.type);
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}

/** One line per problem, for error messages. */
export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
}
