// A TCP port on 127.0.0.1 that the OS just handed out and released: where a server must know its
// address before it starts (the demo's backend, a test's child server). Another process may take
// it in between; callers that cannot live with that retry.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
