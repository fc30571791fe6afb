// shopml's own check of a theme app extension, for what Shopify's theme check does not look at
// (../shared/docs/shopify-reference.md §3, §8.1): each block's `{% schema %}` (strict JSON, known
// keys, target, enabled_on/disabled_on, setting types, unique ids, ranges, select options,
// defaults), that the assets it names exist, that every `t:` label, `| t` key, `block.settings.x`
// and `| asset_url` it uses resolves, that every locale has the default locale's keys, and
// Shopify's size limits (Liquid ≤ 100 KB, locale files ≤ 15 KB, ≤ 30 blocks, no sub-folders).
// Used by scripts/build-theme.ts and test/unit/theme-extension.test.ts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface SchemaProblem { file: string; message: string }

const SCHEMA_KEYS = new Set(['name', 'target', 'javascript', 'stylesheet', 'enabled_on', 'disabled_on', 'class', 'tag', 'settings', 'default', 'available_if']);
const TARGETS = new Set(['section', 'head', 'compliance_head', 'body']);
/** Input settings an app block may use, and the sidebar settings (no id). */
export const SETTING_TYPES = new Set([
  'checkbox', 'number', 'radio', 'range', 'select', 'text', 'textarea',
  'article', 'blog', 'collection', 'collection_list', 'color', 'color_background', 'font_picker', 'html', 'image_picker',
  'inline_richtext', 'link_list', 'metaobject', 'metaobject_list', 'page', 'product', 'product_list', 'richtext',
  'text_alignment', 'url', 'video', 'video_url',
  'header', 'paragraph',
]);
const SIDEBAR = new Set(['header', 'paragraph']);
const TEMPLATES = new Set(['*', '404', 'article', 'blog', 'cart', 'collection', 'list-collections', 'gift_card', 'index', 'page', 'password', 'product', 'search',
  'customers/account', 'customers/activate_account', 'customers/addresses', 'customers/login', 'customers/order', 'customers/register', 'customers/reset_password']);
const FOLDERS = ['assets', 'blocks', 'locales', 'snippets'];
const ASSET_EXTENSIONS = /\.(jpe?g|json|js|css|png|svg|wasm|gif|webp)$/i;
const LIQUID_LIMIT = 100 * 1024;
const LOCALE_LIMIT = 15 * 1024;
const MAX_BLOCKS = 30;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at a dotted path of a locale object, or undefined. */
function lookup(locale: Json | undefined, key: string): Json | undefined {
  let cur: Json | undefined = locale;
  for (const part of key.split('.')) cur = isObject(cur) ? cur[part] : undefined;
  return cur;
}

/** Dotted paths of every string leaf. */
function leaves(v: Json, prefix = ''): string[] {
  if (!isObject(v)) return prefix ? [prefix] : [];
  return Object.entries(v).flatMap(([k, x]) => leaves(x, prefix ? `${prefix}.${k}` : k));
}

function readJson(path: string): { value?: Json; error?: string } {
  try {
    return { value: JSON.parse(readFileSync(path, 'utf8')) as Json };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export function checkThemeExtension(dir: string): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const problem = (file: string, message: string) => problems.push({ file, message });
  const ls = (folder: string) => (existsSync(join(dir, folder)) ? readdirSync(join(dir, folder)) : []);

  if (!existsSync(join(dir, 'shopify.extension.toml'))) problem('shopify.extension.toml', 'missing');
  for (const f of readdirSync(dir)) {
    if (f !== 'shopify.extension.toml' && !FOLDERS.includes(f) && !f.startsWith('.')) problem(f, `not allowed at the extension's top level (only ${FOLDERS.join(', ')} and shopify.extension.toml)`);
  }
  for (const folder of FOLDERS) {
    for (const f of ls(folder)) {
      if (statSync(join(dir, folder, f)).isDirectory()) problem(`${folder}/${f}`, 'sub-folders are not allowed');
      else if (folder === 'assets' && !ASSET_EXTENSIONS.test(f)) problem(`${folder}/${f}`, 'file type not allowed in assets/');
      else if (folder !== 'assets' && !f.endsWith(folder === 'locales' ? '.json' : '.liquid')) problem(`${folder}/${f}`, `unexpected file in ${folder}/`);
    }
  }

  // Locales: strict JSON, within size, every key of the default locale present in the others.
  const locales = new Map<string, Json>();
  for (const f of ls('locales').filter((f) => f.endsWith('.json'))) {
    const path = join(dir, 'locales', f);
    if (statSync(path).size > LOCALE_LIMIT) problem(`locales/${f}`, `larger than ${LOCALE_LIMIT} bytes`);
    const { value, error } = readJson(path);
    if (error !== undefined) problem(`locales/${f}`, `invalid JSON: ${error}`);
    else locales.set(f, value!);
  }
  const storefrontDefault = [...locales.keys()].find((f) => /^[\w-]+\.default\.json$/.test(f));
  const schemaDefault = [...locales.keys()].find((f) => /^[\w-]+\.default\.schema\.json$/.test(f));
  for (const [kind, def, isSchema] of [['storefront', storefrontDefault, false], ['schema', schemaDefault, true]] as const) {
    const others = [...locales.keys()].filter((f) => f.endsWith('.schema.json') === isSchema && f !== def);
    if (!def) {
      if (others.length) problem('locales', `no default ${kind} locale (e.g. en.default${kind === 'schema' ? '.schema' : ''}.json)`);
      continue;
    }
    const keys = leaves(locales.get(def)!);
    for (const f of others) {
      const missing = keys.filter((k) => typeof lookup(locales.get(f), k) !== 'string');
      if (missing.length) problem(`locales/${f}`, `missing keys of ${def}: ${missing.join(', ')}`);
    }
  }
  const schemaText = (s: Json | undefined) => (typeof s === 'string' && s.startsWith('t:') ? lookup(schemaDefault ? locales.get(schemaDefault) : undefined, s.slice(2)) : s);

  const blocks = ls('blocks').filter((f) => f.endsWith('.liquid'));
  if (blocks.length > MAX_BLOCKS) problem('blocks', `${blocks.length} blocks; Shopify allows ${MAX_BLOCKS}`);
  const liquidFiles = [...blocks.map((f) => `blocks/${f}`), ...ls('snippets').filter((f) => f.endsWith('.liquid')).map((f) => `snippets/${f}`)];
  const liquidBytes = liquidFiles.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  if (liquidBytes > LIQUID_LIMIT) problem('blocks', `Liquid totals ${liquidBytes} bytes; Shopify allows ${LIQUID_LIMIT}`);

  for (const f of liquidFiles) {
    const file = f;
    const source = readFileSync(join(dir, f), 'utf8');
    const assetRefs = [...source.matchAll(/['"]([^'"]+)['"]\s*\|\s*asset_url/g)].map((m) => m[1]!);
    for (const a of assetRefs) if (!existsSync(join(dir, 'assets', a))) problem(file, `asset_url: assets/${a} does not exist`);
    const body = source.replace(/\{%-?\s*schema\s*-?%\}[\s\S]*?\{%-?\s*endschema\s*-?%\}/g, '');
    for (const m of body.matchAll(/['"]([\w.-]+)['"]\s*\|\s*t\b/g)) {
      const key = m[1]!;
      for (const [loc, value] of locales) {
        if (loc.endsWith('.schema.json')) continue;
        if (typeof lookup(value, key) !== 'string') problem(file, `translation key "${key}" is missing from locales/${loc}`);
      }
      if (!storefrontDefault) problem(file, `translation key "${key}" used but there is no default storefront locale`);
    }
    if (!f.startsWith('blocks/')) continue;

    const schemas = [...source.matchAll(/\{%-?\s*schema\s*-?%\}([\s\S]*?)\{%-?\s*endschema\s*-?%\}/g)];
    if (schemas.length !== 1) {
      problem(file, schemas.length ? 'more than one {% schema %}' : 'no {% schema %}');
      continue;
    }
    let schema: Json;
    try {
      schema = JSON.parse(schemas[0]![1]!) as Json;
    } catch (err) {
      problem(file, `{% schema %} is not valid JSON: ${(err as Error).message}`);
      continue;
    }
    if (!isObject(schema)) {
      problem(file, '{% schema %} is not a JSON object');
      continue;
    }
    for (const k of Object.keys(schema)) if (!SCHEMA_KEYS.has(k)) problem(file, `unknown schema key "${k}"`);
    const name = schemaText(schema.name);
    if (typeof name !== 'string' || !name.trim()) problem(file, 'schema "name" is required (a string, or a t: key that exists)');
    else if (name.length > 25) problem(file, `schema "name" is ${name.length} characters; Shopify truncates beyond 25`);
    if (typeof schema.target !== 'string' || !TARGETS.has(schema.target)) problem(file, `schema "target" must be one of ${[...TARGETS].join(', ')} (got ${JSON.stringify(schema.target)})`);
    for (const [key, ext] of [['javascript', '.js'], ['stylesheet', '.css']] as const) {
      const v = schema[key];
      if (v === undefined) continue;
      if (typeof v !== 'string' || !v.endsWith(ext)) problem(file, `schema "${key}" must name a ${ext} file in assets/`);
      else if (!existsSync(join(dir, 'assets', v))) problem(file, `schema "${key}": assets/${v} does not exist`);
    }
    if (schema.enabled_on !== undefined && schema.disabled_on !== undefined) problem(file, 'use only one of "enabled_on" and "disabled_on"');
    for (const key of ['enabled_on', 'disabled_on'] as const) {
      const v = schema[key];
      if (v === undefined) continue;
      if (!isObject(v)) {
        problem(file, `"${key}" must be an object with "templates" and/or "groups"`);
        continue;
      }
      for (const k of Object.keys(v)) if (k !== 'templates' && k !== 'groups') problem(file, `"${key}" has an unknown key "${k}"`);
      const templates = v.templates;
      if (templates !== undefined) {
        if (!Array.isArray(templates)) problem(file, `"${key}.templates" must be an array`);
        else for (const t of templates) if (typeof t !== 'string' || (!TEMPLATES.has(t) && !/^metaobject\/[\w-]+$/.test(t))) problem(file, `"${key}.templates": unknown template ${JSON.stringify(t)}`);
      }
      if (v.groups !== undefined && (!Array.isArray(v.groups) || v.groups.some((g) => typeof g !== 'string'))) problem(file, `"${key}.groups" must be an array of strings`);
    }

    const settings = schema.settings ?? [];
    if (!Array.isArray(settings)) {
      problem(file, '"settings" must be an array');
      continue;
    }
    const ids = new Set<string>();
    settings.forEach((s, i) => {
      const at = `setting ${i}${isObject(s) && typeof s.id === 'string' ? ` "${s.id}"` : ''}`;
      if (!isObject(s)) return problem(file, `${at} is not an object`);
      const type = s.type;
      if (type === 'liquid') return problem(file, `${at}: type "liquid" is not supported in app blocks`);
      if (typeof type !== 'string' || !SETTING_TYPES.has(type)) return problem(file, `${at}: unknown setting type ${JSON.stringify(type)}`);
      for (const k of ['label', 'info', 'placeholder', 'content', 'unit'] as const) {
        const v = s[k];
        if (typeof v === 'string' && v.startsWith('t:') && typeof schemaText(v) !== 'string') problem(file, `${at}: "${k}" ${v} is missing from locales/${schemaDefault ?? '<default>.schema.json'}`);
      }
      if (SIDEBAR.has(type)) {
        if (typeof s.content !== 'string') problem(file, `${at}: a ${type} needs "content"`);
        return;
      }
      if (typeof s.id !== 'string' || !/^[a-z0-9_]+$/i.test(s.id)) problem(file, `${at}: "id" must be letters, digits and _`);
      else if (ids.has(s.id)) problem(file, `${at}: duplicate id`);
      else ids.add(s.id);
      if (typeof s.label !== 'string') problem(file, `${at}: "label" is required`);
      const d = s.default;
      if (type === 'range') {
        const { min, max, step } = s;
        if (typeof min !== 'number' || typeof max !== 'number' || typeof d !== 'number') return problem(file, `${at}: a range needs numeric "min", "max" and "default"`);
        const st = typeof step === 'number' ? step : 1;
        if (!(min < max) || !(st > 0)) return problem(file, `${at}: needs min < max and step > 0`);
        if ((max - min) / st > 101) problem(file, `${at}: more than 101 steps`);
        if (d < min || d > max || Math.abs(((d - min) / st) - Math.round((d - min) / st)) > 1e-9) problem(file, `${at}: default ${d} is not a step between ${min} and ${max}`);
      } else if (type === 'select' || type === 'radio') {
        const options = s.options;
        if (!Array.isArray(options) || options.length === 0) return problem(file, `${at}: needs "options"`);
        const values = options.map((o) => (isObject(o) ? o.value : undefined));
        options.forEach((o, j) => {
          if (!isObject(o) || typeof o.value !== 'string' || typeof o.label !== 'string') return problem(file, `${at}: option ${j} needs a string "value" and "label"`);
          if (o.label.startsWith('t:') && typeof schemaText(o.label) !== 'string') problem(file, `${at}: option label ${o.label} is missing from locales/${schemaDefault ?? '<default>.schema.json'}`);
        });
        if (new Set(values).size !== values.length) problem(file, `${at}: duplicate option values`);
        if (d !== undefined && !values.includes(d)) problem(file, `${at}: default ${JSON.stringify(d)} is not one of the options`);
      } else if (type === 'checkbox') {
        if (d !== undefined && typeof d !== 'boolean') problem(file, `${at}: a checkbox default must be true or false`);
      } else if (type === 'number') {
        if (d !== undefined && typeof d !== 'number') problem(file, `${at}: a number default must be a number`);
      } else if (d !== undefined && typeof d !== 'string') {
        problem(file, `${at}: default must be a string`);
      }
    });
    for (const m of body.matchAll(/block\.settings\.(\w+)/g)) if (!ids.has(m[1]!)) problem(file, `block.settings.${m[1]} is not a setting of this block`);
  }
  return problems;
}
