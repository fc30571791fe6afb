// The theme app extension extensions/shopml-theme: built from theme-blocks/ and committed (a stale
// build fails here), within Shopify's size limits, clean under Shopify's theme check (Node API,
// theme-app-extension config) and under shopml's own {% schema %} check — both shown to catch
// what they are for on broken copies. Also: the block's money formatting, and the component's
// types (tsc on theme-blocks/ with the DOM library).
import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { check } from '@shopify/theme-check-node';
import { assetSizes, buildThemeFiles, EXTENSION_DIR, ROOT, staleFiles } from '../../scripts/build-theme.ts';
import { checkThemeExtension } from '../../scripts/theme-schema-check.ts';
import { formatMoney, priceText } from '../../theme-blocks/money.ts';

const TAE_CONFIG = join(ROOT, 'node_modules/@shopify/theme-check-node/configs/theme-app-extension.yml');
const BLOCK = 'blocks/recommended-products.liquid';

function brokenCopy(edit: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'shopml-tae-'));
  cpSync(EXTENSION_DIR, dir, { recursive: true });
  edit(dir);
  return dir;
}
const editFile = (dir: string, file: string, f: (s: string) => string) => writeFileSync(join(dir, file), f(readFileSync(join(dir, file), 'utf8')));

describe('the built extension', () => {
  it('is up to date with theme-blocks/ (run `npm run build:theme` after editing the sources)', async () => {
    const files = await buildThemeFiles();
    expect(staleFiles(files)).toEqual([]);
    expect([...files.keys()].sort()).toEqual([
      'assets/shopml-recs.css', 'assets/shopml-recs.js', BLOCK,
      'locales/de.json', 'locales/de.schema.json', 'locales/en.default.json', 'locales/en.default.schema.json', 'locales/fr.json', 'locales/fr.schema.json',
      'shopify.extension.toml',
    ]);
  });

  it('stays within the size budget: JS ≤ 10,000 bytes on disk and ≤ 4 KB gzipped', async () => {
    const sizes = Object.fromEntries(assetSizes(await buildThemeFiles()).map((s) => [s.file, s]));
    console.log(`storefront block sizes: ${JSON.stringify(sizes)}`);
    expect(sizes['assets/shopml-recs.js']!.bytes).toBeLessThanOrEqual(10_000);
    expect(sizes['assets/shopml-recs.js']!.gzipBytes).toBeLessThanOrEqual(4096);
    expect(sizes['assets/shopml-recs.css']!.bytes).toBeLessThanOrEqual(100_000);
  });

  it('passes Shopify theme check (theme-app-extension config) with no offense at all', async () => {
    const offenses = await check(EXTENSION_DIR, TAE_CONFIG);
    expect(offenses.map((o) => `${o.check} ${o.uri.split('/').slice(-2).join('/')}:${o.start.line} ${o.message}`)).toEqual([]);
  });

  it('theme check does catch what it checks (a copy with a forbidden tag and an oversized script)', async () => {
    const dir = brokenCopy((d) => {
      editFile(d, BLOCK, (s) => s.replace('<shopml-recs', "{% include 'nope' %}\n<shopml-recs"));
      writeFileSync(join(d, 'assets/shopml-recs.js'), `/*${'x'.repeat(12_000)}*/`);
    });
    try {
      const found = new Set((await check(dir, TAE_CONFIG)).map((o) => o.check));
      expect(found).toContain('AppBlockValidTags');
      expect(found).toContain('AssetSizeAppBlockJavaScript');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes shopml\'s own schema check', () => {
    expect(checkThemeExtension(EXTENSION_DIR)).toEqual([]);
  });
});

describe('shopml\'s schema check catches what theme check misses', () => {
  const problemsOf = (edit: (dir: string) => void): string[] => {
    const dir = brokenCopy(edit);
    try {
      return checkThemeExtension(dir).map((p) => `${p.file}: ${p.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const schemaEdit = (f: (schema: Record<string, unknown> & { settings: Record<string, unknown>[] }) => void) => (dir: string) =>
    editFile(dir, BLOCK, (s) => s.replace(/(\{% schema %\})([\s\S]*)(\{% endschema %\})/, (_, a: string, json: string, b: string) => {
      const schema = JSON.parse(json) as Record<string, unknown> & { settings: Record<string, unknown>[] };
      f(schema);
      return `${a}${JSON.stringify(schema)}${b}`;
    }));

  it('target, setting types, duplicate ids, ranges, select defaults, unknown keys', () => {
    const found = problemsOf(schemaEdit((s) => {
      s.target = 'sidebar';
      s.colour = 'red';
      s.settings[0]!.type = 'not_a_type';
      s.settings[2]!.id = 'products_count';
      s.settings[1]!.default = 13;
      s.settings[4]!.default = 'round';
      s.settings.push({ type: 'liquid', id: 'custom', label: 'Custom' });
      s.disabled_on = { templates: ['index'] };
    }));
    const expected = [
      'schema "target" must be one of section, head, compliance_head, body (got "sidebar")',
      'unknown schema key "colour"',
      'setting 0 "heading": unknown setting type "not_a_type"',
      'setting 2 "products_count": duplicate id',
      'setting 1 "products_count": default 13 is not a step between 2 and 12',
      'setting 4 "image_ratio": default "round" is not one of the options',
      'setting 6 "custom": type "liquid" is not supported in app blocks',
      'use only one of "enabled_on" and "disabled_on"',
      'block.settings.layout is not a setting of this block',
    ];
    for (const e of expected) expect(found).toContain(`${BLOCK}: ${e}`);
  });

  it('invalid JSON, missing assets, missing translations, unknown templates, sizes and folders', () => {
    expect(problemsOf((d) => editFile(d, BLOCK, (s) => s.replace('"target": "section",', '"target": "section",,')))[0]).toMatch(/\{% schema %\} is not valid JSON/);
    const found = problemsOf((d) => {
      schemaEdit((s) => {
        s.javascript = 'missing.js';
        s.enabled_on = { templates: ['product', 'checkout'] };
        s.settings[3]!.label = 't:blocks.recommended_products.settings.nope.label';
      })(d);
      editFile(d, BLOCK, (s) => s.replace("'shopml.added' | t", "'shopml.gone' | t"));
      editFile(d, 'locales/fr.json', (s) => s.replace('"add_failed"', '"add_failed_typo"'));
      writeFileSync(join(d, 'locales/de.json'), '{"shopml": {"heading": "x",}}');
      writeFileSync(join(d, 'blocks/huge.liquid'), `${'x'.repeat(101 * 1024)}{% schema %}{"name": "Huge", "target": "section"}{% endschema %}`);
      cpSync(join(d, 'locales'), join(d, 'assets/nested'), { recursive: true });
    });
    const expected = [
      `${BLOCK}: schema "javascript": assets/missing.js does not exist`,
      `${BLOCK}: "enabled_on.templates": unknown template "checkout"`,
      `${BLOCK}: setting 3 "columns": "label" t:blocks.recommended_products.settings.nope.label is missing from locales/en.default.schema.json`,
      `${BLOCK}: translation key "shopml.gone" is missing from locales/en.default.json`,
      'locales/fr.json: missing keys of en.default.json: shopml.add_failed',
      'assets/nested: sub-folders are not allowed',
    ];
    for (const e of expected) expect(found).toContain(e);
    expect(found.some((f) => f.startsWith('locales/de.json: invalid JSON'))).toBe(true);
    expect(found.some((f) => /^blocks: Liquid totals \d+ bytes; Shopify allows 102400$/.test(f))).toBe(true);
  });
});

describe('prices', () => {
  it('formats cents with Shopify money formats', () => {
    expect(formatMoney(123456, '${{amount}}')).toBe('$1,234.56');
    expect(formatMoney(123456, '{{amount_with_comma_separator}} €')).toBe('1.234,56 €');
    expect(formatMoney(123456, '{{ amount_no_decimals }} kr')).toBe('1,235 kr');
    expect(formatMoney(123456789, "CHF {{amount_with_apostrophe_separator}}")).toBe("CHF 1'234'567.89");
    expect(formatMoney(99, '{{amount_with_space_separator}} zł')).toBe('0,99 zł');
    expect(formatMoney(100000, '{{amount_no_decimals_with_space_separator}} Ft')).toBe('1 000 Ft');
    expect(formatMoney(50, '£{{amount}}')).toBe('£0.50');
  });

  it('shows the presentment currency: the shop format, Shopify\'s rate, or nothing rather than the wrong currency', () => {
    const usd = { format: '${{amount}}', shopCurrency: 'USD', currency: 'USD', locale: 'en' };
    expect(priceText(49, 'USD', usd)).toBe('$49.00');
    const eur = { ...usd, currency: 'EUR', locale: 'fr', rate: { active: 'EUR', rate: '0.9' } };
    expect(priceText(49, 'USD', eur)).toBe(new Intl.NumberFormat('fr', { style: 'currency', currency: 'EUR' }).format(44.1));
    expect(priceText(44.1, 'EUR', eur)).toBe(new Intl.NumberFormat('fr', { style: 'currency', currency: 'EUR' }).format(44.1));
    expect(priceText(49, 'USD', { ...eur, rate: undefined })).toBe('');
    expect(priceText(49, 'USD', { ...eur, rate: { active: 'GBP', rate: '0.8' } })).toBe('');
    expect(priceText(49, 'JPY', eur)).toBe('');
  });
});

it('the web component type-checks with the DOM library (tsc -p theme-blocks)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(ROOT, 'theme-blocks')], { encoding: 'utf8', timeout: 60_000 });
  expect(`${r.stdout}${r.stderr}`).toBe('');
  expect(r.status).toBe(0);
});
