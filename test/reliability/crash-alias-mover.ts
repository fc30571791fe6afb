// Child process of crash-safety.test.ts ("kill during an alias move"): loops alias moves and
// canary decisions through the real CLI entry point (backend/src/cli.ts `main`, exactly what
// `shopml models promote|rollback` and `shopml canary start|promote|rollback|stop|run-policy` run,
// each call opening and closing the database as the command does) until it is killed.
//
//   node test/reliability/crash-alias-mover.ts <shop> <seed>     (DATABASE_PATH from the environment)
//
// Prints "moving" once the first command has run, then "ops N" after every command. Commands the
// registry refuses (a conflict, nothing to roll back to) are part of the mix: they change nothing.
import { main } from '../../backend/src/cli.ts';
import { openDb } from '../../backend/src/store/db.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';

const [shop, seed] = process.argv.slice(2);
if (!shop || seed === undefined) throw new Error('usage: crash-alias-mover.ts <shop> <seed>');
const rng = createPrng(`alias-mover:${seed}`);

const db = openDb(process.env.DATABASE_PATH!);
const versions = db.prepare(`SELECT version FROM model_versions WHERE shop = ? AND kind = 'recommend' ORDER BY version`).pluck().all(shop) as string[];
db.close();
if (versions.length < 3) throw new Error(`need at least 3 recommend versions, found ${versions.length}`);

const pick = <T>(xs: readonly T[]): T => xs[rng.below(xs.length)]!;
const base = ['--shop', shop, '--kind', 'recommend'];
// Weighted: canaries start often, so kills find live experiments to be superseded or decided.
const commands: (() => string[])[] = [
  () => ['models', 'promote', ...base, '--version', pick(versions), '--to', 'champion', '--reason', 'crash test'],
  () => ['models', 'promote', ...base, '--version', pick(versions), '--to', 'challenger', '--reason', 'crash test'],
  () => ['models', 'rollback', ...base, '--reason', 'crash test'],
  () => ['models', 'rollback', ...base, '--alias', 'challenger', '--reason', 'crash test'],
  () => ['canary', 'start', '--shop', shop, '--version', pick(versions), '--reason', 'crash test'],
  () => ['canary', 'start', '--shop', shop, '--version', pick(versions), '--reason', 'crash test'],
  () => ['canary', 'promote', '--shop', shop, '--reason', 'crash test'],
  () => ['canary', 'rollback', '--shop', shop, '--reason', 'crash test'],
  () => ['canary', 'stop', '--shop', shop, '--reason', 'crash test'],
  () => ['canary', 'run-policy', '--shop', shop],
];

// The commands' own output (one line each) would only fill the pipe.
const say = process.stdout.write.bind(process.stdout);
console.log = () => {};
console.error = () => {};

for (let n = 1; ; n++) {
  const argv = pick(commands)();
  // 0: done, 1: refused (conflict, nothing to do); 2 would be a usage error in this script.
  if ((await main(argv)) === 2) {
    say(`usage error: shopml ${argv.join(' ')}\n`);
    process.exit(3);
  }
  if (n === 1) say('moving\n');
  say(`ops ${n}\n`);
}
