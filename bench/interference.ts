// How much a background command slows an unrelated request/response pair on this machine: a
// model of the storefront with nothing of shopml in it (docs/RELIABILITY.md §2, sixth session).
// A server process answers each 8-byte request after 0.3 ms of work; this process sends 500
// requests/s over one loopback connection in an open loop (each at its scheduled time, latency
// from that time) — first alone, then with COMMAND running (started 3 s before measuring, until
// it exits or the window ends). Prints one JSON line: p50/p99/p99.9 of each window.
//
//   node bench/interference.ts [--seconds 25] [--rate 500] -- nice -n 19 node bin/shopml.js train --kind all
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';

const WORK_NS = 300_000n;

if (process.argv[2] === '--serve') {
  const server = createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => {
      const until = process.hrtime.bigint() + WORK_NS * BigInt(d.length / 8);
      while (process.hrtime.bigint() < until) { /* the request's work */ }
      s.write(d);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.send!(typeof a === 'object' && a ? a.port : 0);
  });
} else {
  const args = process.argv.slice(2);
  const cut = args.indexOf('--');
  const opt = (name: string, dflt: number) => {
    const i = args.indexOf(name);
    return i >= 0 && i < (cut < 0 ? args.length : cut) ? Number(args[i + 1]) : dflt;
  };
  const command = cut >= 0 ? args.slice(cut + 1) : [];
  const seconds = opt('--seconds', 25), rate = opt('--rate', 500);
  if (!command.length || !(seconds > 0) || !(rate > 0)) {
    console.error('usage: node bench/interference.ts [--seconds 25] [--rate 500] -- COMMAND...');
    process.exit(2);
  }
  const server = fork(new URL(import.meta.url).pathname, ['--serve'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => server.once('message', (p) => resolve(p as number)));
  const sock: Socket = connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise((resolve) => sock.once('connect', resolve));
  const pending: number[] = [];
  let latencies: number[] = [];
  sock.on('data', (d) => {
    const now = performance.now();
    for (let i = 0; i < d.length / 8; i++) latencies.push(now - pending.shift()!);
  });

  /** One open-loop window of `secs` seconds; stops early when `until` resolves. */
  async function window(secs: number, until?: Promise<unknown>) {
    latencies = [];
    let stop = false;
    void until?.then(() => { stop = true; });
    const t0 = performance.now();
    let k = 0;
    while (!stop && performance.now() - t0 < secs * 1000) {
      const now = performance.now();
      for (; t0 + (k * 1000) / rate <= now; k++) {
        pending.push(t0 + (k * 1000) / rate);
        sock.write(Buffer.alloc(8));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 200));
    const v = Float64Array.from(latencies).sort();
    const q = (p: number) => Math.round(v[Math.min(v.length - 1, Math.floor(p * (v.length - 1)))]! * 100) / 100;
    return { requests: v.length, seconds: Math.round((performance.now() - t0) / 100) / 10, p50ms: q(0.5), p99ms: q(0.99), p999ms: q(0.999) };
  }

  const idle = await window(Math.min(seconds, 10));
  const child: ChildProcess = spawn(command[0]!, command.slice(1), { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((r) => setTimeout(r, 3000));
  const beside = await window(seconds, exited);
  child.kill();
  console.log(JSON.stringify({ rate, command: command.join(' '), idle, beside, ratio: Math.round((beside.p99ms / idle.p99ms) * 100) / 100 }));
  sock.destroy();
  server.kill();
}
