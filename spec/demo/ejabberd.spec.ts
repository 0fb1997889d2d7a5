// The private ejabberd, the second XMPP server the end-to-end specs can stand on: a
// real client logs in, talks to a bare XEP-0114 component and back, and the server
// comes and goes without touching the machine's other Erlang nodes (RabbitMQ).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Component } from '@xmpp/component';
import type { Element as ComponentElement } from '@xmpp/xml';
import { ejabberdBinary, startPrivateEjabberd } from '../../lib/demo/ejabberd.ts';
import type { PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { connectComponent } from '../../lib/xmpp/connection.ts';
import { xml as stanza } from '../../lib/xmpp/stanzas.ts';
import { bodyOf, connectPlayer, xml, type Player } from '../support/player.ts';

const COMPONENT_DOMAIN = 'game.localhost';
const COMPONENT_SECRET = 'spec-secret';
const COMPONENT_MS_MAX = 10000;
const WAIT_MS = 5000;
/** Over Debian's stock c2s limit (256 KB); its stock shaper (3 KB/s) would take 100 s. */
const LARGE_BODY_CHARS = 300 * 1024;
const LARGE_WAIT_MS = 15000;
/** The server is under test here, not Flux's own gate (STANZA_BYTES_MAX), which would cut the large message. */
const COMPONENT_STANZA_BYTES_MAX = 2 * 1024 * 1024;
const POLL_MS = 20;
const FEATURES = /<stream:features>[\s\S]*?<\/stream:features>/;
const LOOPBACK = '127.0.0.1';

describe('private ejabberd (lib/demo/ejabberd.ts)', function () {
  let dir: string | undefined;
  let ejabberd: PrivateXmppServer | undefined;
  const players: Player[] = [];
  let alice: Player;
  let game: Component | undefined;
  let rabbitBefore: string[];
  const atComponent: ComponentElement[] = [];

  const c2sService = (): string => `xmpp://${LOOPBACK}:${ejabberd!.c2sPort}`;
  const componentService = (): string => `xmpp://${LOOPBACK}:${ejabberd!.componentPort}`;

  before(async function () {
    if (ejabberdBinary() === null) {
      // Fail rather than skip: CI installs ejabberd, so its absence is a broken machine.
      throw new Error('ejabberd is not installed (no "ejabberdctl"); install it, e.g. apt-get install ejabberd');
    }
    rabbitBefore = await pgrep('rabbit');
    dir = await mkdtemp(path.join(os.tmpdir(), 'flux-ejabberd-'));
    ejabberd = await startPrivateEjabberd({ dir, componentDomain: COMPONENT_DOMAIN, componentSecret: COMPONENT_SECRET });
    await ejabberd.registerUser('alice', 'alice-pw');
    alice = await connectPlayer({ service: c2sService(), domain: ejabberd.host, username: 'alice', password: 'alice-pw' });
    players.push(alice);
    game = connectComponent({
      service: componentService(), domain: COMPONENT_DOMAIN, password: COMPONENT_SECRET,
      stanzaBytesMax: COMPONENT_STANZA_BYTES_MAX,
    });
    game.reconnect.stop();
    const errors: string[] = [];
    game.on('error', (err) => errors.push(err.message));
    game.on('stanza', (el) => atComponent.push(el));
    await withTimeout(game.start(), COMPONENT_MS_MAX, () => `component handshake (errors: ${errors.join('; ')})`);
  });

  after(async function () {
    await Promise.all(players.map((p) => p.stop()));
    if (game !== undefined) await game.stop().catch(() => undefined);
    await ejabberd?.stop();
    // A failed run (a hook failure leaves tests without state) keeps the folder: its logs/ejabberd.log is the first thing to read.
    const passed = this.test?.parent?.tests.every((t) => t.state === 'passed') ?? false;
    if (dir !== undefined && passed) await rm(dir, { recursive: true, force: true });
    else if (dir !== undefined) console.log(`private ejabberd folder kept: ${dir}`);
  });

  it('reports its host and two distinct ports', function () {
    expect(ejabberd!.c2sPort).to.be.a('number').and.not.equal(ejabberd!.componentPort);
    expect(ejabberd!.host).to.equal('localhost');
  });

  it('lets a player log in with a full JID on the virtual host', function () {
    expect(alice.jid).to.match(/^alice@localhost\/.+/);
  });

  it('offers SCRAM-SHA-1 and PLAIN without TLS, and PLAIN logs in', async function () {
    const probe = await plainLogin(ejabberd!.c2sPort, ejabberd!.host, 'alice', 'alice-pw');
    expect(probe.mechanisms).to.include.members(['SCRAM-SHA-1', 'PLAIN']);
    expect(probe.features).to.not.include('starttls');
    expect(probe.outcome).to.equal('success');
  });

  it('registers an existing user again, overwriting the password', async function () {
    await ejabberd!.registerUser('carol', 'first-pw');
    await ejabberd!.registerUser('carol', 'second-pw');
    const carol = await connectPlayer({ service: c2sService(), domain: ejabberd!.host, username: 'carol', password: 'second-pw' });
    players.push(carol);
    expect(carol.jid).to.match(/^carol@localhost\//);
  });

  it('routes a message to the component and the component\'s reply back to the player', async function () {
    const to = `x@${COMPONENT_DOMAIN}`;
    await alice.send(xml('message', { to, type: 'chat' }, xml('body', {}, 'hello game')));
    const hello = (): ComponentElement | undefined => atComponent.find((el) => el.getChildText('body') === 'hello game');
    const got = await waitUntil(hello, WAIT_MS, 'message at the component');
    expect(got.attrs.to).to.equal(to);
    expect(got.attrs.from).to.equal(alice.jid);

    alice.mark();
    await game!.send(stanza('message', { from: to, to: alice.jid, type: 'chat' }, stanza('body', {}, 'hello alice')));
    const reply = await alice.waitFor((el) => bodyOf(el) === 'hello alice', WAIT_MS);
    expect(reply.attrs.from).to.equal(to);
  });

  it('carries a 300 KB message from a player to the component (no shaper, large stanzas)', async function () {
    const body = 'x'.repeat(LARGE_BODY_CHARS);
    await alice.send(xml('message', { to: `big@${COMPONENT_DOMAIN}`, type: 'chat' }, xml('body', {}, body)));
    const big = (): ComponentElement | undefined => atComponent.find((el) => el.attrs.to === `big@${COMPONENT_DOMAIN}`);
    const got = await waitUntil(big, LARGE_WAIT_MS, 'large message at the component');
    expect(got.getChildText('body')).to.have.length(LARGE_BODY_CHARS);
  });

  it('rejects a component with the wrong secret', async function () {
    const intruder = connectComponent({ service: componentService(), domain: COMPONENT_DOMAIN, password: 'wrong' });
    intruder.reconnect.stop();
    const failed = new Promise<Error>((resolve) => intruder.on('error', resolve));
    intruder.start().catch(() => undefined);
    const err = await withTimeout(failed, WAIT_MS, () => 'handshake refusal');
    expect(err.message).to.match(/not-authorized/);
    await intruder.stop().catch(() => undefined);
  });

  it('fails to start with the log tail when a port is taken', async function () {
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'flux-ejabberd-taken-'));
    try {
      const starting = startPrivateEjabberd({
        dir: otherDir, componentDomain: COMPONENT_DOMAIN, componentSecret: COMPONENT_SECRET, c2sPort: ejabberd!.c2sPort,
      });
      const err = await starting.then(() => null, (e: Error) => e);
      expect(err?.message).to.match(/exited early/).and.match(/address already in use/);
      expect(await pgrep(otherDir)).to.deep.equal([]);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('runs two more instances started in parallel, each with its own accounts', async function () {
    const dirs = await Promise.all([0, 1].map((i) => mkdtemp(path.join(os.tmpdir(), `flux-ejabberd-parallel${i}-`))));
    const servers = await Promise.all(dirs.map((d) => startPrivateEjabberd({
      dir: d, componentDomain: COMPONENT_DOMAIN, componentSecret: COMPONENT_SECRET,
    })));
    try {
      await Promise.all(servers.map((s, i) => s.registerUser('dave', `dave-pw-${i}`)));
      const daves = await Promise.all(servers.map((s, i) => connectPlayer({
        service: `xmpp://${LOOPBACK}:${s.c2sPort}`, domain: s.host, username: 'dave', password: `dave-pw-${i}`,
      })));
      players.push(...daves);
      for (const dave of daves) expect(dave.jid).to.match(/^dave@localhost\//);
      expect(new Set(servers.flatMap((s) => [s.c2sPort, s.componentPort])).size).to.equal(4);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });

  it('registers no name with the machine\'s epmd', async function () {
    const ours = (await epmdNames()).filter((name) => name.startsWith('flux-'));
    expect(ours).to.deep.equal([]);
  });

  it('restarts on the same ports with the same accounts', async function () {
    const ports = [ejabberd!.c2sPort, ejabberd!.componentPort];
    await ejabberd!.restart();
    expect([ejabberd!.c2sPort, ejabberd!.componentPort]).to.deep.equal(ports);
    const again = await connectPlayer({ service: c2sService(), domain: ejabberd!.host, username: 'alice', password: 'alice-pw' });
    players.push(again);
    expect(again.jid).to.match(/^alice@localhost\//);
  });

  // Last: it stops the server.
  it('stops every process of its node and leaves RabbitMQ\'s Erlang node alone', async function () {
    const tree = await processTree(await pgrep(dir!));
    expect(tree, 'ejabberdctl and the VM mention the folder').to.not.be.empty;
    await ejabberd!.stop();
    const alive = tree.filter(isAlive);
    expect(alive, 'processes of the stopped node still alive').to.deep.equal([]);
    expect(await pgrep(dir!)).to.deep.equal([]);
    expect(await pgrep('rabbit')).to.deep.equal(rabbitBefore);
  });
});

interface SaslProbe {
  readonly features: string;
  readonly mechanisms: string[];
  readonly outcome: string;
}

/** A bare c2s stream (RFC 6120 §4, §6.4): the offered features, then a PLAIN attempt. */
async function plainLogin(port: number, host: string, user: string, password: string): Promise<SaslProbe> {
  const socket = net.connect({ host: LOOPBACK, port });
  let input = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    input += chunk;
  });
  socket.on('error', () => undefined); // a failure shows up as a timeout below
  try {
    socket.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' to='${host}' version='1.0'`
      + ` xmlns:stream='http://etherx.jabber.org/streams'>`);
    const features = await waitUntil(() => FEATURES.exec(input)?.[0], WAIT_MS, 'stream features');
    const mechanisms = [...features.matchAll(/<mechanism>([^<]+)<\/mechanism>/g)].map((m) => m[1]!);
    const credentials = Buffer.from(`\0${user}\0${password}`).toString('base64');
    socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${credentials}</auth>`);
    const outcome = await waitUntil(() => /<(success|failure)\b/.exec(input)?.[1], WAIT_MS, 'SASL outcome');
    return { features, mechanisms, outcome };
  } finally {
    socket.destroy();
  }
}

/** pids whose command line matches pattern (pgrep -f), as strings, sorted. */
function pgrep(pattern: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('pgrep', ['-f', pattern], (err, stdout) => {
      // pgrep exits 1 when nothing matches.
      if (err !== null && err.code !== 1) return reject(err);
      resolve(stdout.split('\n').filter((s) => s !== '').sort());
    });
  });
}

/** Node names registered with the local epmd; none if it is not running (or not installed). */
function epmdNames(): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('epmd', ['-names'], (err, stdout) => {
      if (err !== null) return resolve([]);
      resolve([...stdout.matchAll(/^name (\S+) at port/gm)].map((m) => m[1]!));
    });
  });
}

/** The given pids and all their descendants (erl_child_setup, eimp...). */
async function processTree(roots: string[]): Promise<string[]> {
  const all = [...roots];
  for (let i = 0; i < all.length; i++) {
    for (const child of await pgrepChildren(all[i]!)) if (!all.includes(child)) all.push(child);
  }
  return all;
}

function pgrepChildren(pid: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('pgrep', ['-P', pid], (err, stdout) => {
      if (err !== null && err.code !== 1) return reject(err);
      resolve(stdout.split('\n').filter((s) => s !== ''));
    });
  });
}

/**
 * Running, not a zombie: a helper that outlives the VM by a moment is re-parented to
 * init and stays a zombie until init reaps it, which some sandboxes' PID 1 never does.
 */
function isAlive(pid: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); // "pid (comm) S ..."
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls probe until it returns a value. */
async function waitUntil<T>(probe: () => T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: nothing within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
