// The Flow trigger definitions a simulated shop knows: what `shopify app deploy` would have sent
// Shopify, read from the extension tomls on disk (extensions/*/shopify.extension.toml with
// type = "flow_trigger"). flowTriggerReceive checks payloads against them, as Shopify checks a
// payload against the deployed trigger. The reader handles the TOML subset Flow extension files
// use (tables, arrays of tables, strings, booleans) and refuses anything else.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SimFlowTriggerField {
  type: string;
  /** Custom fields; reference fields have none (their payload key is `<object>_id`). */
  key?: string;
}

export interface SimFlowTrigger {
  handle: string;
  name: string;
  fields: SimFlowTriggerField[];
}

type Table = Record<string, string | boolean>;

/** Minimal TOML reader: `[[extensions]]`, `[settings]`, `[[settings.fields]]`, `key = "string" | true | false`, comments. */
export function readExtensionToml(text: string, file = 'toml'): { extensions: Table[]; fields: Table[] } {
  const extensions: Table[] = [];
  const fields: Table[] = [];
  let current: Table | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line === '[[extensions]]') return void extensions.push((current = {}));
    if (line === '[settings]') return void (current = null);
    if (line === '[[settings.fields]]') return void fields.push((current = {}));
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/.exec(line);
    if (!m || !current) throw new Error(`${file}:${i + 1}: unsupported line ${JSON.stringify(raw)}`);
    const v = m[2]!.trim();
    if (v === 'true' || v === 'false') current[m[1]!] = v === 'true';
    else if (v.startsWith('"')) current[m[1]!] = JSON.parse(v) as string;
    else throw new Error(`${file}:${i + 1}: unsupported value ${v}`);
  });
  return { extensions, fields };
}

/** Every flow_trigger extension under `extensionsDir`. */
export function loadFlowTriggers(extensionsDir: string): SimFlowTrigger[] {
  if (!existsSync(extensionsDir)) return [];
  const out: SimFlowTrigger[] = [];
  for (const d of readdirSync(extensionsDir, { withFileTypes: true })) {
    const file = join(extensionsDir, d.name, 'shopify.extension.toml');
    if (!d.isDirectory() || !existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    if (!/^type\s*=\s*"flow_trigger"\s*$/m.test(text)) continue;
    const { extensions, fields } = readExtensionToml(text, file);
    const ext = extensions[0];
    if (!ext || typeof ext.handle !== 'string' || typeof ext.name !== 'string') throw new Error(`${file}: no [[extensions]] handle and name`);
    out.push({
      handle: ext.handle,
      name: ext.name,
      fields: fields.map((f) => ({ type: String(f.type), ...(typeof f.key === 'string' ? { key: f.key } : {}) })),
    });
  }
  return out;
}
