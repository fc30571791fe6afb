// The rules Shopify applies to Flow extension definitions, checked before a toml is written.
// `shopify app build` catches some of them (a trigger key with `_`), but not all: an unsupported
// trigger field type such as `number_integer` passes the build and fails only at deploy
// (serializeFields), so the generator refuses it here. Rules from Shopify CLI 4.x
// (services/flow/{constants,validation,serialize-fields}.ts) and the Flow docs (handle limits).
import type {
  ActionField,
  FlowActionDefinition,
  FlowLifecycleDefinition,
  FlowTriggerDefinition,
  ReferenceField,
  ReturnType,
  TriggerField,
} from './types.ts';

export class FlowDefinitionError extends Error {
  readonly handle: string;
  constructor(handle: string, problem: string) {
    super(`Flow extension "${handle}": ${problem}`);
    this.name = 'FlowDefinitionError';
    this.handle = handle;
  }
}

export const TRIGGER_REFERENCE_TYPES = ['customer_reference', 'order_reference', 'product_reference', 'company_reference', 'company_contact_reference'] as const;
export const ACTION_REFERENCE_TYPES = [
  'customer_reference', 'order_reference', 'product_reference', 'marketing_activity_reference', 'abandonment_reference', 'company_reference', 'company_contact_reference',
] as const;
export const TRIGGER_VALUE_TYPES = ['boolean', 'email', 'single_line_text_field', 'url', 'number_decimal'] as const;
export const ACTION_VALUE_TYPES = ['boolean', 'email', 'multi_line_text_field', 'number_integer', 'single_line_text_field', 'url', 'number_decimal'] as const;

/** Trigger keys are the editor label and the payload key: letters and spaces only (CLI: /^[a-zA-Z\s]*$/). */
const TRIGGER_KEY = /^[A-Za-z]+(?: [A-Za-z]+)*$/;
/** Action keys are payload property names; shopml keeps them snake_case. */
const ACTION_KEY = /^[a-z][a-z0-9_]*$/;
/** Extension handles: letters, digits and hyphens, no leading/trailing hyphen. */
const HANDLE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const RELATIVE_URL = /^\/[^/\s][^\s]*$/;

export function isReference(f: { type: string }): f is ReferenceField {
  return f.type.endsWith('_reference');
}

/** The payload key of a field: `<object>_id` for references (as the CLI serialises them), the key otherwise. */
export function payloadKey(f: TriggerField | ActionField): string {
  return isReference(f) ? `${f.type.slice(0, -'_reference'.length)}_id` : f.key;
}

function checkHandle(handle: unknown, max: number): asserts handle is string {
  if (typeof handle !== 'string' || !HANDLE.test(handle)) throw new FlowDefinitionError(String(handle), 'handle must be lower-case letters, digits and single hyphens');
  if (handle.length > max) throw new FlowDefinitionError(handle, `handle is ${handle.length} characters; at most ${max} are allowed`);
}

function checkText(handle: string, what: string, value: unknown, max: number): void {
  if (typeof value !== 'string' || value.trim() === '') throw new FlowDefinitionError(handle, `${what} is required`);
  if (value.length > max) throw new FlowDefinitionError(handle, `${what} is longer than ${max} characters`);
  if (/[\r\n\t"\\]/.test(value)) throw new FlowDefinitionError(handle, `${what} must be one line without quotes or backslashes: ${JSON.stringify(value)}`);
}

function checkUniqueKeys(handle: string, fields: readonly (TriggerField | ActionField)[]): void {
  const seen = new Set<string>();
  for (const f of fields) {
    const k = payloadKey(f).toLowerCase();
    if (seen.has(k)) throw new FlowDefinitionError(handle, `two fields share the payload key "${payloadKey(f)}"`);
    seen.add(k);
  }
}

export function checkTrigger(def: FlowTriggerDefinition): void {
  checkHandle(def.handle, 30); // Flow's documented limit for triggers (the CLI allows 50)
  checkText(def.handle, 'name', def.name, 100);
  checkText(def.handle, 'description', def.description, 500);
  if (!Array.isArray(def.fields) || def.fields.length === 0) throw new FlowDefinitionError(def.handle, 'a trigger needs at least one field');
  def.fields.forEach((f, i) => {
    const where = `field ${i + 1} (${JSON.stringify((f as { key?: string }).key ?? f.type)})`;
    if (isReference(f)) {
      if (!(TRIGGER_REFERENCE_TYPES as readonly string[]).includes(f.type)) throw new FlowDefinitionError(def.handle, `${where}: ${f.type} is not a trigger reference type (${TRIGGER_REFERENCE_TYPES.join(', ')})`);
      if ('key' in f || 'name' in f || 'required' in f) throw new FlowDefinitionError(def.handle, `${where}: reference fields take no key, name or required`);
      return;
    }
    if (f.type === ('number_integer' as string)) {
      throw new FlowDefinitionError(def.handle, `${where}: triggers do not support number_integer (Shopify rejects it at deploy, not at build); numeric trigger fields must be number_decimal`);
    }
    if (!(TRIGGER_VALUE_TYPES as readonly string[]).includes(f.type)) {
      throw new FlowDefinitionError(def.handle, `${where}: type ${JSON.stringify(f.type)} is not supported on triggers (${TRIGGER_VALUE_TYPES.join(', ')})`);
    }
    if (typeof f.key !== 'string' || !TRIGGER_KEY.test(f.key)) {
      throw new FlowDefinitionError(def.handle, `${where}: trigger field keys must be letters and single spaces only (got ${JSON.stringify(f.key)})`);
    }
    if ('name' in f || 'required' in f) throw new FlowDefinitionError(def.handle, `${where}: trigger fields take no name or required (the key is the label)`);
    if (f.description !== undefined) checkText(def.handle, `${where} description`, f.description, 300);
  });
  checkUniqueKeys(def.handle, def.fields);
}

function checkReturnType(handle: string, r: ReturnType): void {
  if (!GRAPHQL_NAME.test(r.name)) throw new FlowDefinitionError(handle, `return type name ${JSON.stringify(r.name)} is not a GraphQL name`);
  checkText(handle, 'return type description', r.description, 300);
  if (r.fields.length === 0) throw new FlowDefinitionError(handle, 'the return type needs at least one field');
  const seen = new Set<string>();
  for (const f of r.fields) {
    if (!GRAPHQL_NAME.test(f.name)) throw new FlowDefinitionError(handle, `return field ${JSON.stringify(f.name)} is not a GraphQL name`);
    if (seen.has(f.name)) throw new FlowDefinitionError(handle, `return field ${f.name} appears twice`);
    seen.add(f.name);
    if (!/^(String|Float|Int|Boolean|ID)!?$/.test(f.type)) throw new FlowDefinitionError(handle, `return field ${f.name}: type ${f.type} is not a basic GraphQL type`);
    checkText(handle, `return field ${f.name} description`, f.description, 300);
  }
}

export function checkAction(def: FlowActionDefinition<never>): void {
  checkHandle(def.handle, 50);
  checkText(def.handle, 'name', def.name, 100);
  checkText(def.handle, 'description', def.description, 500);
  if (typeof def.handler !== 'function') throw new FlowDefinitionError(def.handle, 'an action needs a handler');
  def.fields.forEach((f, i) => {
    const where = `field ${i + 1} (${JSON.stringify((f as { key?: string }).key ?? f.type)})`;
    if (isReference(f)) {
      if (!(ACTION_REFERENCE_TYPES as readonly string[]).includes(f.type)) throw new FlowDefinitionError(def.handle, `${where}: ${f.type} is not an action reference type`);
      if ('key' in f || 'name' in f) throw new FlowDefinitionError(def.handle, `${where}: reference fields take no key or name (the CLI's schema is strict)`);
      return;
    }
    if (!(ACTION_VALUE_TYPES as readonly string[]).includes(f.type)) throw new FlowDefinitionError(def.handle, `${where}: type ${JSON.stringify(f.type)} is not supported on actions (${ACTION_VALUE_TYPES.join(', ')})`);
    if (typeof f.key !== 'string' || !ACTION_KEY.test(f.key)) throw new FlowDefinitionError(def.handle, `${where}: action field keys are snake_case identifiers (got ${JSON.stringify(f.key)})`);
    checkText(def.handle, `${where} name`, f.name, 100);
    if (f.description !== undefined) checkText(def.handle, `${where} description`, f.description, 300);
  });
  checkUniqueKeys(def.handle, def.fields);
  if (def.returns) checkReturnType(def.handle, def.returns);
}

export function checkLifecycle(def: FlowLifecycleDefinition): void {
  checkHandle(def.handle, 50);
  checkText(def.handle, 'name', def.name, 100);
  if (!RELATIVE_URL.test(def.url)) throw new FlowDefinitionError(def.handle, `url must be a relative path starting with one "/" (got ${JSON.stringify(def.url)})`);
}

/** Every definition valid, and handles unique across all extensions. */
export function checkAll(triggers: readonly FlowTriggerDefinition[], actions: readonly FlowActionDefinition<never>[], lifecycle: FlowLifecycleDefinition): void {
  for (const t of triggers) checkTrigger(t);
  for (const a of actions) checkAction(a);
  checkLifecycle(lifecycle);
  const handles = [...triggers.map((t) => t.handle), ...actions.map((a) => a.handle), lifecycle.handle];
  const dup = handles.find((h, i) => handles.indexOf(h) !== i);
  if (dup) throw new FlowDefinitionError(dup, 'handle used by two extensions');
}
