// XEP-0033 (Extended Stanza Addressing) through a private ejabberd's mod_multicast,
// as a component would use it instead of writing one stanza per occupant: what
// bench/multicast.ts measures relies on each of these. The players are guests on
// the anonymous host, which is the host the multicast service serves.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Component } from '@xmpp/component';
import type { Element as ComponentElement } from '@xmpp/xml';
import { ejabberdBinary, startPrivateEjabberd, type MulticastOptions } from '../../lib/demo/ejabberd.ts';
import type { PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { connectComponent } from '../../lib/xmpp/connection.ts';
import { xml as stanza } from '../../lib/xmpp/stanzas.ts';
import { bodyOf, connectPlayer, type Element, type Player } from '../support/player.ts';

const COMPONENT_DOMAIN = 'game.localhost';
const COMPONENT_SECRET = 'spec-secret';
const GUESTS = 'anon.localhost';
const SERVICE = `multicast.${GUESTS}`;
const ROOM_NICK = `realm@${COMPONENT_DOMAIN}/Speaker`;
const NS_ADDRESS = 'http://jabber.org/protocol/address';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
/** The bound this spec's server sets; the addressed players fit it exactly. */
const RECIPIENTS_MAX = 5;
/** ejabberd's own bound for a remote sender, which a component is. */
const REMOTE_RECIPIENTS_DEFAULT = 20;
const WAIT_MS = 5000;
const COMPONENT_MS_MAX = 10000;
const LOOPBACK = '127.0.0.1';

interface Started {
  readonly dir: string;
  readonly server: PrivateXmppServer;
  readonly game: Component;
  /** Every stanza the component received. */
  readonly received: ComponentElement[];
}

describe('XEP-0033 through a private ejabberd (mod_multicast)', function () {
  let main: Started | undefined;
  const players: Player[] = [];
  let addressed: Player[] = [];
  let bystander: Player;

  before(async function () {
    if (ejabberdBinary() === null) throw new Error('ejabberd is not installed (no "ejabberdctl"); install it, e.g. apt-get install ejabberd');
    main = await start({ host: GUESTS, recipientsMax: RECIPIENTS_MAX });
    for (let i = 0; i <= RECIPIENTS_MAX; i++) {
      players.push(await connectPlayer({ service: `xmpp://${LOOPBACK}:${main.server.c2sPort}`, domain: GUESTS }));
    }
    addressed = players.slice(0, RECIPIENTS_MAX);
    bystander = players[RECIPIENTS_MAX]!;
  });

  after(async function () {
    await Promise.all(players.map((p) => p.stop()));
    await stop(main);
  });

  it('is found as a server\'s disco item with the address feature and its bound, by a component too', async function () {
    const items = await componentIq(main!, GUESTS, stanza('query', { xmlns: NS_DISCO_ITEMS }));
    expect(items.getChild('query')!.getChildren('item').map((i) => i.attrs.jid)).to.include(SERVICE);
    const info = await componentIq(main!, SERVICE, stanza('query', { xmlns: NS_DISCO_INFO }));
    const query = info.getChild('query')!;
    expect(query.getChildren('feature').map((f) => f.attrs.var)).to.include(NS_ADDRESS);
    expect(limitsOf(query)).to.deep.equal({ message: String(RECIPIENTS_MAX), presence: String(RECIPIENTS_MAX) });
  });

  it('delivers one bcc message from room/Nick to every addressed player, as a plain groupchat message, and to no one else', async function () {
    for (const p of players) p.mark();
    await main!.game.send(multicast(addressed.map((p) => p.jid), 'heard by five', 'm1'));
    for (const p of addressed) {
      const got = await p.waitFor((el) => bodyOf(el) === 'heard by five', WAIT_MS);
      expect(got.attrs).to.include({ from: ROOM_NICK, to: p.jid, type: 'groupchat', id: 'm1' });
      expect(got.getChild('addresses', NS_ADDRESS), 'bcc addresses are stripped').to.equal(undefined);
    }
    // The service handles one stanza at a time: once the next one reached the bystander, the first would have too.
    await main!.game.send(multicast([bystander.jid], 'fence', 'm2'));
    await bystander.waitFor((el) => bodyOf(el) === 'fence', WAIT_MS);
    expect(bystander.received.map(bodyOf)).to.not.include('heard by five');
    for (const p of addressed) expect(p.received.filter((el) => bodyOf(el) === 'heard by five')).to.have.length(1);
  });

  it('shows every recipient the to and cc addresses, marked delivered (a stanza per recipient grows with the list)', async function () {
    const [first, second] = addressed;
    await main!.game.send(multicast([first!.jid, second!.jid], 'with a visible list', 'm3', 'to'));
    const got = await second!.waitFor((el) => bodyOf(el) === 'with a visible list', WAIT_MS);
    const listed = got.getChild('addresses', NS_ADDRESS)!.getChildren('address');
    expect(listed.map((a) => [a.attrs.jid, a.attrs.delivered])).to.have.deep.members([[first!.jid, 'true'], [second!.jid, 'true']]);
  });

  it('refuses a stanza over its bound with not-acceptable to the sender, and delivers none of it', async function () {
    for (const p of players) p.mark();
    await main!.game.send(multicast(players.map((p) => p.jid), 'one too many', 'm4'));
    const error = await componentWaitFor(main!, (el) => el.attrs.id === 'm4' && el.attrs.type === 'error');
    expect(error.attrs).to.include({ from: SERVICE, to: ROOM_NICK });
    expect(error.getChild('error')!.getChild('not-acceptable')).to.not.equal(undefined);
    await main!.game.send(multicast([bystander.jid], 'second fence', 'm5'));
    await bystander.waitFor((el) => bodyOf(el) === 'second fence', WAIT_MS);
    for (const p of players) expect(p.received.map(bodyOf)).to.not.include('one too many');
  });

  it('with ejabberd\'s defaults, counts a component as remote (20 addresses) and advertises no bound', async function () {
    const defaults = await start({ host: GUESTS });
    try {
      const info = await componentIq(defaults, SERVICE, stanza('query', { xmlns: NS_DISCO_INFO }));
      expect(limitsOf(info.getChild('query')!)).to.deep.equal({});
      // The bound is checked before any address is looked up: these guests need not exist.
      const jids = Array.from({ length: REMOTE_RECIPIENTS_DEFAULT + 1 }, (_, i) => `nobody${i}@${GUESTS}/r`);
      await defaults.game.send(multicast(jids, 'too many for a remote sender', 'd1'));
      const error = await componentWaitFor(defaults, (el) => el.attrs.id === 'd1' && el.attrs.type === 'error');
      expect(error.getChild('error')!.getChild('not-acceptable')).to.not.equal(undefined);
    } finally {
      await stop(defaults);
    }
  });
});

/** A private ejabberd with mod_multicast, and a component connected to it. */
async function start(multicast: MulticastOptions): Promise<Started> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-ejabberd-multicast-'));
  const server = await startPrivateEjabberd({ dir, componentDomain: COMPONENT_DOMAIN, componentSecret: COMPONENT_SECRET, anonymousHost: GUESTS, multicast });
  const game = connectComponent({ service: `xmpp://${LOOPBACK}:${server.componentPort}`, domain: COMPONENT_DOMAIN, password: COMPONENT_SECRET });
  game.reconnect.stop();
  const received: ComponentElement[] = [];
  game.on('error', () => undefined);
  game.on('stanza', (el) => received.push(el));
  try {
    await withTimeout(game.start(), COMPONENT_MS_MAX, 'component handshake');
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { dir, server, game, received };
}

async function stop(started: Started | undefined): Promise<void> {
  if (started === undefined) return;
  await started.game.stop().catch(() => undefined);
  await started.server.stop();
  await rm(started.dir, { recursive: true, force: true });
}

/** XEP-0033 §4: one message for `jids`, from a room occupant, to the multicast service. */
function multicast(jids: readonly string[], body: string, id: string, type = 'bcc'): ComponentElement {
  const addresses = stanza('addresses', { xmlns: NS_ADDRESS }, ...jids.map((jid) => stanza('address', { type, jid })));
  return stanza('message', { from: ROOM_NICK, to: SERVICE, type: 'groupchat', id }, addresses, stanza('body', {}, body));
}

let iqSeq = 0;

async function componentIq(s: Started, to: string, query: ComponentElement): Promise<Element> {
  const id = `mc-iq-${++iqSeq}`;
  await s.game.send(stanza('iq', { from: COMPONENT_DOMAIN, to, type: 'get', id }, query));
  const reply = await componentWaitFor(s, (el) => el.name === 'iq' && el.attrs.id === id);
  expect(reply.attrs.type, reply.toString()).to.equal('result');
  return reply;
}

/** The first stanza the component received that matches, waiting up to WAIT_MS. */
async function componentWaitFor(s: Started, pred: (el: Element) => boolean): Promise<Element> {
  const endMs = Date.now() + WAIT_MS;
  for (;;) {
    const found = (s.received as unknown as Element[]).find(pred);
    if (found !== undefined) return found;
    if (Date.now() > endMs) throw new Error(`no matching stanza at the component within ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** XEP-0033 §6 via XEP-0128: the service's bounds from its disco#info form, by stanza kind. */
function limitsOf(query: Element): Record<string, string> {
  const form = query.getChildren('x', 'jabber:x:data').find((x) => x.getChildren('field').some((f) => f.getChildText('value') === NS_ADDRESS));
  if (form === undefined) return {};
  return Object.fromEntries(form.getChildren('field').filter((f) => f.attrs.var !== 'FORM_TYPE').map((f) => [f.attrs.var!, f.getChildText('value') ?? '']));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
