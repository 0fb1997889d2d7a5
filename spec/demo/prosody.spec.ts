// The private Prosody the demo and end-to-end specs stand on: two real clients talk
// through it, and a bare XEP-0114 component receives what is addressed to its domain.
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { prosodyBinary, startPrivateProsody } from '../../lib/demo/prosody.ts';
import { type PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { bodyOf, connectPlayer, xml, type Element, type Player } from '../support/player.ts';

const COMPONENT_DOMAIN = 'game.localhost';
const COMPONENT_SECRET = 'spec-secret';
const COMPONENT_MS_MAX = 10000;
const WAIT_MS = 5000;

interface XmppComponent {
  readonly reconnect: { stop(): void };
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  on(event: 'stanza', listener: (el: Element) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
}
type ComponentFactory = (options: { service: string; domain: string; password: string }) => XmppComponent;

// xmpp.js ships no type declarations; see spec/support/player.ts.
const require = createRequire(import.meta.url);
const { component } = require('@xmpp/component') as { component: ComponentFactory };

describe('private Prosody (lib/demo/prosody.ts)', function () {
  let dir: string | undefined;
  let prosody: PrivateXmppServer | undefined;
  const players: Player[] = [];
  let alice: Player;
  let bob: Player;
  let game: XmppComponent | undefined;

  const c2sService = (): string => `xmpp://127.0.0.1:${prosody!.c2sPort}`;

  before(async function () {
    if (prosodyBinary() === null) {
      // Fail rather than skip: CI installs Prosody, so its absence is a broken machine.
      throw new Error('Prosody is not installed (no "prosody" on PATH); install it, e.g. apt-get install prosody');
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'flux-prosody-'));
    prosody = await startPrivateProsody({ dir, componentDomain: COMPONENT_DOMAIN, componentSecret: COMPONENT_SECRET });
    await prosody.registerUser('alice', 'alice-pw');
    await prosody.registerUser('bob', 'bob-pw');
    const service = c2sService();
    alice = await connectPlayer({ service, domain: prosody.host, username: 'alice', password: 'alice-pw' });
    players.push(alice);
    bob = await connectPlayer({ service, domain: prosody.host, username: 'bob', password: 'bob-pw' });
    players.push(bob);
  });

  after(async function () {
    await Promise.all(players.map((p) => p.stop()));
    if (game !== undefined) await game.stop().catch(() => undefined);
    await prosody?.stop();
    // A failed run (a hook failure leaves tests without state) keeps the folder: its prosody.log is the first thing to read.
    const passed = this.test?.parent?.tests.every((t) => t.state === 'passed') ?? false;
    if (dir !== undefined && passed) await rm(dir, { recursive: true, force: true });
    else if (dir !== undefined) console.log(`private Prosody folder kept: ${dir}`);
  });

  it('reports its host and two distinct ports', function () {
    expect(prosody!.c2sPort).to.be.a('number').and.not.equal(prosody!.componentPort);
    expect(prosody!.host).to.equal('localhost');
  });

  it('lets two players log in with full JIDs on the virtual host', function () {
    expect(alice.jid).to.match(/^alice@localhost\/.+/);
    expect(bob.jid).to.match(/^bob@localhost\/.+/);
  });

  it('registers an existing user again, overwriting the password', async function () {
    await prosody!.registerUser('carol', 'first-pw');
    await prosody!.registerUser('carol', 'second-pw');
    const carol = await connectPlayer({ service: c2sService(), domain: prosody!.host, username: 'carol', password: 'second-pw' });
    players.push(carol);
    expect(carol.jid).to.match(/^carol@localhost\//);
  });

  it('routes a chat message from one player to the other bare JID', async function () {
    bob.mark();
    await alice.send(xml('message', { to: 'bob@localhost', type: 'chat' }, xml('body', {}, 'hello bob')));
    const got = await bob.waitFor((el) => bodyOf(el) === 'hello bob', WAIT_MS);
    expect(got.attrs.type).to.equal('chat');
    expect(got.attrs.from).to.equal(alice.jid);
  });

  it('delivers a message for the component domain to an XEP-0114 component', async function () {
    game = component({
      service: `xmpp://127.0.0.1:${prosody!.componentPort}`,
      domain: COMPONENT_DOMAIN,
      password: COMPONENT_SECRET,
    });
    game.reconnect.stop();
    const errors: string[] = [];
    game.on('error', (err) => errors.push(err.message));
    await withTimeout(game.start(), COMPONENT_MS_MAX, `component handshake (errors: ${errors.join('; ')})`);

    const arrived = new Promise<Element>((resolve) => {
      game!.on('stanza', (el) => {
        if (bodyOf(el) === 'hello game') resolve(el);
      });
    });
    await alice.send(xml('message', { to: `anything@${COMPONENT_DOMAIN}`, type: 'chat' }, xml('body', {}, 'hello game')));
    const got = await withTimeout(arrived, WAIT_MS, 'message at the component');
    expect(got.attrs.to).to.equal(`anything@${COMPONENT_DOMAIN}`);
    expect(got.attrs.from).to.equal(alice.jid);
  });

  it('rejects a component with the wrong secret', async function () {
    const intruder = component({
      service: `xmpp://127.0.0.1:${prosody!.componentPort}`,
      domain: COMPONENT_DOMAIN,
      password: 'wrong',
    });
    intruder.reconnect.stop();
    const failed = new Promise<Error>((resolve) => intruder.on('error', resolve));
    intruder.start().catch(() => undefined);
    const err = await withTimeout(failed, WAIT_MS, 'handshake refusal');
    expect(err.message).to.match(/not-authorized/);
    await intruder.stop().catch(() => undefined);
  });

  it('fails to start with the log tail when a port is taken', async function () {
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'flux-prosody-taken-'));
    try {
      const starting = startPrivateProsody({
        dir: otherDir, componentDomain: COMPONENT_DOMAIN, componentSecret: COMPONENT_SECRET, c2sPort: prosody!.c2sPort,
      });
      const err = await starting.then(() => null, (e: Error) => e);
      expect(err?.message).to.match(/could not be bound/).and.match(/Failed to open server port/);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  // Last: it disconnects everyone.
  it('restarts on the same ports with the same accounts', async function () {
    const ports = [prosody!.c2sPort, prosody!.componentPort];
    await prosody!.restart();
    expect([prosody!.c2sPort, prosody!.componentPort]).to.deep.equal(ports);
    const again = await connectPlayer({ service: c2sService(), domain: prosody!.host, username: 'alice', password: 'alice-pw' });
    players.push(again);
    expect(again.jid).to.match(/^alice@localhost\//);
  });
});

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
