// The Admin API simulator for the re-tag benchmark, in its own process (so its GraphQL work does
// not share the event loop with the code being measured). Prints its URL as one JSON line on
// stdout; answers {"type":"stats"} on IPC with the calls it recorded since the last "reset".
import { startAdminSimulator } from '../simulator/admin-server.ts';
import { fixtureStore } from '../test/fixtures/admin-sim-store.ts';
import { RETAG_BENCH } from './retag-constants.ts';

const store = fixtureStore({ shop: RETAG_BENCH.shop, customers: RETAG_BENCH.customers, orders: 10 });
const sim = await startAdminSimulator({
  store, apiKey: 'bench-key', apiSecret: 'bench-secret-0123456789', accessTokens: { [store.shop]: RETAG_BENCH.token },
  bucketSize: RETAG_BENCH.bucketSize, restoreRate: RETAG_BENCH.restoreRate,
});
let from = 0;
process.on('message', (m: { type: string }) => {
  if (m.type === 'reset') {
    from = sim.calls.length;
    process.send!({ type: 'reset', bucket: sim.state(store.shop).bucket.status() });
  } else if (m.type === 'stats') {
    const calls = sim.calls.slice(from);
    const ok = calls.filter((c) => c.outcome === 'ok');
    const tags = sim.state(store.shop).customerTags;
    process.send!({
      type: 'stats',
      okCalls: ok.length,
      throttled: calls.filter((c) => c.outcome === 'throttled').length,
      other: calls.filter((c) => c.outcome !== 'ok' && c.outcome !== 'throttled').length,
      cost: ok.reduce((a, c) => a + (c.cost ?? 0), 0),
      byOperation: Object.fromEntries([...new Set(ok.map((c) => c.operationName))].map((op) => [op, ok.filter((c) => c.operationName === op).length])),
      tagged: [...tags.values()].filter((t) => t.some((x) => x.startsWith('shopml:'))).length,
    });
  } else if (m.type === 'close') {
    void sim.close().then(() => process.exit(0));
  }
});
process.stdout.write(`${JSON.stringify({ url: sim.baseUrlTemplate })}\n`);
