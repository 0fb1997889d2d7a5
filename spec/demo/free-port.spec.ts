// The ports the private servers and specs pick for themselves: the kernel offers a
// closed port again soon, so one process must never be handed the same one twice
// (a CI run once gave a private Prosody the same c2s and component port).
import net from 'node:net';
import { once } from 'node:events';
import { expect } from 'chai';
import { freePort, LOOPBACK } from '../../lib/demo/private-server.ts';

const CALLS = 500;

async function bindable(port: number): Promise<boolean> {
  const server = net.createServer();
  server.listen(port, LOOPBACK);
  const bound = await Promise.race([once(server, 'listening').then(() => true), once(server, 'error').then(() => false)]);
  if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

describe('freePort (lib/demo/private-server.ts)', function () {
  it(`hands out ${CALLS} different ports in one process, each free when handed out`, async function () {
    const ports: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const port = await freePort();
      expect(await bindable(port), `port ${port} can be bound`).to.equal(true);
      ports.push(port);
    }
    expect(new Set(ports).size).to.equal(CALLS);
  });
});
