// Builds the theme app extension extensions/shopml-theme/ from theme-blocks/:
//   theme-blocks/shopml-recs.ts (+ money.ts)  → assets/shopml-recs.js   (esbuild: bundled, minified)
//   theme-blocks/shopml-recs.css              → assets/shopml-recs.css  (esbuild: minified)
//   theme-blocks/*.liquid                     → blocks/
//   theme-blocks/locales/*.json               → locales/
//   theme-blocks/shopify.extension.toml       → shopify.extension.toml
// then runs shopml's own schema check (scripts/theme-schema-check.ts). The built files are
// committed; test/unit/theme-extension.test.ts fails when they differ from a fresh build.
//
//   node scripts/build-theme.ts           write the extension, print sizes
//   node scripts/build-theme.ts --check   write nothing; exit 1 when the committed files are stale
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, transform } from 'esbuild';
import { checkThemeExtension } from './theme-schema-check.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SOURCE_DIR = join(ROOT, 'theme-blocks');
export const EXTENSION_DIR = join(ROOT, 'extensions', 'shopml-theme');
/** The folders Shopify allows in a theme app extension (no sub-folders inside them). */
const FOLDERS = ['assets', 'blocks', 'locales', 'snippets'];
/** Browsers the storefront script is compiled for (custom elements, optional chaining, `??=`). */
const TARGET = ['chrome100', 'firefox100', 'safari15', 'edge100'];

/** Every file of the extension: path relative to the extension folder → content. */
export async function buildThemeFiles(sourceDir = SOURCE_DIR): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const js = await build({
    entryPoints: [join(sourceDir, 'shopml-recs.ts')], bundle: true, minify: true, format: 'iife', target: TARGET,
    write: false, legalComments: 'none', charset: 'utf8', logLevel: 'silent',
  });
  files.set('assets/shopml-recs.js', js.outputFiles[0]!.text);
  const css = await transform(readFileSync(join(sourceDir, 'shopml-recs.css'), 'utf8'), { loader: 'css', minify: true, target: TARGET });
  files.set('assets/shopml-recs.css', css.code);
  for (const f of readdirSync(sourceDir).filter((f) => f.endsWith('.liquid')).sort()) files.set(`blocks/${f}`, readFileSync(join(sourceDir, f), 'utf8'));
  const locales = join(sourceDir, 'locales');
  for (const f of readdirSync(locales).filter((f) => f.endsWith('.json')).sort()) {
    // Re-serialised: Shopify refuses comments and trailing commas, and this fails loudly on them.
    files.set(`locales/${f}`, `${JSON.stringify(JSON.parse(readFileSync(join(locales, f), 'utf8')), null, 2)}\n`);
  }
  files.set('shopify.extension.toml', readFileSync(join(sourceDir, 'shopify.extension.toml'), 'utf8'));
  return files;
}

function filesOnDisk(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (existsSync(join(dir, 'shopify.extension.toml'))) out.set('shopify.extension.toml', readFileSync(join(dir, 'shopify.extension.toml'), 'utf8'));
  for (const folder of FOLDERS) {
    if (!existsSync(join(dir, folder))) continue;
    for (const f of readdirSync(join(dir, folder))) out.set(`${folder}/${f}`, readFileSync(join(dir, folder, f), 'utf8'));
  }
  return out;
}

/** Files that differ between a fresh build and the extension folder (missing, changed or extra). */
export function staleFiles(built: Map<string, string>, dir = EXTENSION_DIR): string[] {
  const disk = filesOnDisk(dir);
  const names = [...new Set([...built.keys(), ...disk.keys()])].sort();
  return names.filter((n) => built.get(n) !== disk.get(n));
}

export function writeThemeFiles(files: Map<string, string>, dir = EXTENSION_DIR): void {
  for (const folder of FOLDERS) rmSync(join(dir, folder), { recursive: true, force: true });
  for (const [name, content] of files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
}

export interface AssetSize { file: string; bytes: number; gzipBytes: number }
export const assetSizes = (files: Map<string, string>): AssetSize[] =>
  [...files].filter(([n]) => n.startsWith('assets/')).map(([file, c]) => ({ file, bytes: Buffer.byteLength(c), gzipBytes: gzipSync(c).length }));

async function main(argv: string[]): Promise<number> {
  const files = await buildThemeFiles();
  if (argv.includes('--check')) {
    const stale = staleFiles(files);
    if (stale.length) {
      console.error(`extensions/shopml-theme is stale (run npm run build:theme): ${stale.join(', ')}`);
      return 1;
    }
    console.log('extensions/shopml-theme is up to date');
    return 0;
  }
  writeThemeFiles(files);
  const problems = checkThemeExtension(EXTENSION_DIR);
  for (const s of assetSizes(files)) console.log(`${s.file.padEnd(24)} ${String(s.bytes).padStart(6)} B  ${String(s.gzipBytes).padStart(5)} B gzipped`);
  if (problems.length) {
    for (const p of problems) console.error(`${p.file}: ${p.message}`);
    return 1;
  }
  console.log(`built ${relative(ROOT, EXTENSION_DIR)} (${files.size} files)`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
