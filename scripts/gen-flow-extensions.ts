// `npm run gen:flow`: writes extensions/flow-*/ (shopify.extension.toml, schema.graphql) from
// the definitions in flow-actions/. `--check` writes nothing and exits 1 when the files on disk
// differ from what would be generated (CI and test/unit/flow-extensions.test.ts run this
// comparison). A definition Shopify would reject (a trigger key with a digit or underscore, a
// number_integer trigger field, …) stops generation with a message naming it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flowExtensionFiles } from '../flow-actions/index.ts';
import { EXTENSION_DIR_PREFIX, GENERATED_HEADER, type GeneratedFile } from '../flow-actions/render.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface FlowExtensionDiff {
  /** Generated files missing on disk or with other content. */
  changed: string[];
  /** Generated folders on disk that no definition produces any more. */
  stale: string[];
}

/** Folders under extensions/ that this generator wrote (their toml starts with its header). */
function generatedDirsOnDisk(root: string): string[] {
  const ext = join(root, 'extensions');
  if (!existsSync(ext)) return [];
  return readdirSync(ext, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith(EXTENSION_DIR_PREFIX))
    .filter((d) => {
      const toml = join(ext, d.name, 'shopify.extension.toml');
      return existsSync(toml) && readFileSync(toml, 'utf8').startsWith(GENERATED_HEADER);
    })
    .map((d) => `extensions/${d.name}`);
}

export function diffFlowExtensions(files: GeneratedFile[] = flowExtensionFiles(), root = ROOT): FlowExtensionDiff {
  const changed = files.filter((f) => {
    const p = join(root, f.path);
    return !existsSync(p) || readFileSync(p, 'utf8') !== f.content;
  }).map((f) => f.path);
  const dirs = new Set(files.map((f) => dirname(f.path)));
  const stale = generatedDirsOnDisk(root).filter((d) => !dirs.has(d));
  return { changed, stale };
}

export function writeFlowExtensions(files: GeneratedFile[] = flowExtensionFiles(), root = ROOT): FlowExtensionDiff {
  const diff = diffFlowExtensions(files, root);
  for (const f of files) {
    if (!diff.changed.includes(f.path)) continue;
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.content);
  }
  for (const d of diff.stale) rmSync(join(root, d), { recursive: true, force: true });
  return diff;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const check = process.argv.includes('--check');
    const diff = check ? diffFlowExtensions() : writeFlowExtensions();
    const n = diff.changed.length + diff.stale.length;
    if (check && n > 0) {
      console.error(`Flow extensions are out of date (run \`npm run gen:flow\`):\n${[...diff.changed.map((p) => `  changed: ${p}`), ...diff.stale.map((p) => `  stale:   ${p}`)].join('\n')}`);
      process.exit(1);
    }
    console.log(check ? 'Flow extensions are up to date.' : n === 0 ? 'Flow extensions already up to date.' : `Flow extensions written: ${diff.changed.length} file(s) changed, ${diff.stale.length} stale folder(s) removed.`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
