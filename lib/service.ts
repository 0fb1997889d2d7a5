// The running server: database, rooms and the XMPP edge, wired once here.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import { peerListenAddress, ROOT_DIR } from './config/index.ts';
import { openDb, migrate, type Db } from './db/index.ts';
import { installWorlds } from './world/index.ts';
import { isPlayer, loadRoom } from './contextualization/index.ts';
import { engineFactory } from './engines/index.ts';
import { Affiliations, claimedSince, embeddedLocks, listRoomOwners, postgresLocks, recordOwner, releaseOwner, Room, type StageTimes } from './rooms/index.ts';
import { XmppEdge, type MucRoom } from './xmpp/index.ts';
import { errorReply } from './xmpp/stanzas.ts';
import { ServerLag } from './xmpp/server-lag.ts';
import { parseElement } from './xmpp/xml-parser.ts';
import { PeerLink, type Frame } from './cluster/link.ts';
import { handOverTo } from './cluster/balance.ts';
import { RoomRouter } from './cluster/router.ts';
import { SessionJournal } from './cluster/sessions.ts';
import { readInstances } from './metrics/instances.ts';
import { noTelemetry, PrometheusTelemetry, readiness, serveMetrics, startHeartbeat, type Heartbeat, type InstanceIdentity, type Telemetry } from './metrics/index.ts';
import { FORWARD_WAIT_MS_MAX, OWNERSHIP_RETRY_MS, PEER_FAREWELL_MS_MAX, ROOMS_MAX, SHUTDOWN_MS_MAX } from './constants.ts';
import type { Clock } from './negotiation/index.ts';

export interface Service {
  readonly db: Db;
  readonly edge: XmppEdge;
  readonly rooms: ReadonlyMap<string, Room>;
  /** Stop taking commands, commit open batches, send unavailable presences, disconnect. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly onBatch?: (room: Room, size: number, times: StageTimes) => void;
  /** Who this instance is in the instances table; by default this host and process, and a fresh id. */
  readonly instance?: Omit<InstanceIdentity, 'domain' | 'startedAt' | 'endpoint'>;
}

/** Opens the database (migrated, worlds installed): shared by serve and migrate. */
export async function prepareDatabase(config: Config, log: Logger): Promise<Db> {
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: path.resolve(config.dataDir), log });
  const applied = await migrate(db);
  if (applied.length > 0) log.info({ applied }, 'migrations applied');
  const worlds = await installWorlds(db, path.resolve(ROOT_DIR, config.worldsDir));
  if (worlds.installed.length > 0) log.info({ worlds: worlds.installed }, 'worlds installed');
  return db;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { config, log } = options;
  const db = await prepareDatabase(config, log);
  const rooms = new Map<string, Room>();
  const prometheus: PrometheusTelemetry | undefined = config.metricsPort > 0 ? new PrometheusTelemetry({
    rooms: () => rooms.size,
    occupants: (): number => edge.rooms().reduce((n: number, muc) => n + muc.occupants.size, 0),
    engineMemoryBytes: () => [...rooms.values()].reduce((n, r) => n + r.engineMemoryBytes(), 0),
    serverLagMs: () => edge.lag.ms,
  }) : undefined;
  const telemetry: Telemetry = prometheus ?? noTelemetry;
  const instanceId = options.instance?.id ?? randomUUID().slice(0, 8);
  // The link to the other instances of the domain (DESIGN §5): frames come in before the edge is up, so they look it up late.
  let onFrame: (frame: Frame) => void = () => {};
  const listen = peerListenAddress(config);
  const link = listen === null ? null : await PeerLink.listen({ listen, secret: config.peerSecret || config.xmppSecret, log, onFrame: (f) => onFrame(f) });
  const edge = new XmppEdge({
    instance: instanceId,
    service: config.xmppService, domain: config.xmppDomain, secret: config.xmppSecret, log, clock: options.clock,
    limits: {
      bodyBytesMax: config.bodyBytesMax, commandsPerS: config.commandsPerS, occupantsMax: config.occupantsMax,
      charactersMax: config.charactersMax, outputBytesPerS: config.roomOutputBytesPerS,
      newCharactersPerDomainPerMin: config.newCharactersPerDomainPerMin,
      guests: { domains: config.guestDomains, releaseS: config.guestReleaseS },
    },
    telemetry,
  });
  const makeEngine = engineFactory(config.engine, config.batchCommandsMax, log);
  let commands = 0; // since the last heartbeat: its commands/s
  const onBatch = (room: Room, size: number, times: StageTimes) => {
    commands += size;
    options.onBatch?.(room, size, times);
  };
  let heartbeat: Heartbeat | null = null;
  const locks = config.databaseUrl === '' ? embeddedLocks() : postgresLocks(config.databaseUrl, log);
  /** The epoch each served room was claimed at, and its session journal. */
  const claims = new Map<string, { epoch: number; journal: SessionJournal }>();
  /** Rooms being handed over (SIGTERM): their new stanzas wait in the router for the next owner. */
  const handing = new Set<string>();
  /** The other instances of the domain that serve (id -> link endpoint and rooms served), heard from lately. */
  let peers = new Map<string, { endpoint: string; rooms: number }>();
  /** Whether another instance of the domain stands by (Prosody lets one in at a time). */
  let standbys = 0;
  /** Rooms this instance let go lately, until when: it does not claim them back before the peer told has. */
  const given = new Map<string, number>();
  const router = link && new RoomRouter({
    db, link, domain: config.xmppDomain, log,
    takes: (id) => rooms.has(id) && !handing.has(id),
    known: (id) => edge.knownRooms.has(id),
    claim: async () => {
      if (stopping || edge.standingBy) return false;
      await claim(true);
      return true;
    },
    receive: (el) => edge.receive(el),
    unreachable: (el, id) => {
      if (el.attrs.type === 'error') return;
      edge.send(errorReply(el, 'service-unavailable', 'wait', `The world ${id} is not served here right now; try again in a moment.`));
    },
  });
  if (link && router) {
    onFrame = (frame) => {
      if (frame.kind === 'released') {
        if (!stopping) void claim(true).catch((err: Error) => log.warn({ err: err.message }, 'claiming rooms'));
        return;
      }
      router.fromPeer(frame, parseElement);
    };
    edge.divert = (el) => {
      // A lag probe the server handed to this instance of the domain goes back to the instance that sent it.
      const tag = ServerLag.foreignProbe(el, config.xmppDomain, instanceId);
      if (tag !== null) {
        const at = peers.get(tag);
        if (at !== undefined) link.send(at.endpoint, { kind: 'stanza', hops: 1, xml: el.toString() });
        return true;
      }
      return router.divert(el);
    };
  }
  const refreshPeers = async () => {
    if (!link) return;
    // Heard from within two of its heartbeats: a killed instance's row still says online for a while.
    const others = (await readInstances(db)).filter((i) => i.domain === config.xmppDomain && i.id !== instanceId && i.endpoint !== '' && i.heardMsAgo < 2 * i.heartbeatMs);
    peers = new Map(others.filter((i) => i.state === 'online').map((i) => [i.id, { endpoint: i.endpoint, rooms: i.rooms.length }]));
    standbys = others.filter((i) => i.state === 'standby').length;
  };

  /**
   * Loads a room this instance now holds and opens it to players: a new owner
   * epoch, and the occupants its last owner recorded (a takeover or a handover)
   * are served on without a word to them.
   */
  const serve = async (id: string) => {
    // From here its stanzas wait for this claim: an owner remembered from before would send them back and forth.
    router?.forget(id);
    const { epoch, previous } = await recordOwner(db, id, instanceId, link?.endpoint ?? '');
    const loaded = await loadRoom(db, id);
    if (!loaded) return;
    const affiliations = await Affiliations.load(db, id);
    const sessions = await SessionJournal.load(db, id);
    const room = new Room({
      epoch, lost: (r) => void abandon(r.id, true),
      db, log: log.child({ room: id }), loaded, engine: makeEngine(loaded.world),
      tickMs: config.tickMs, batchMax: config.batchCommandsMax, npcTickMs: config.npcTickMs,
      deliver: (r, rendered, batch) => edge.room(r.id)?.deliver(rendered, batch),
      refuse: (r, batch, reason) => edge.room(r.id)?.refuse(batch, reason),
      unanswerable: (r, commands) => edge.room(r.id)?.unanswerable(commands),
      telemetry, affiliations, isBuilder: affiliations.isBuilder, onBatch,
    });
    rooms.set(id, room);
    const muc = edge.attach(room);
    const restored = muc.restore(sessions);
    const journal = new SessionJournal(db, id, epoch, () => muc.sessionRows(), log, sessions);
    claims.set(id, { epoch, journal });
    muc.occupants.onChange = () => journal.changed();
    journal.changed(); // what was recorded for characters no longer present goes
    router?.forget(id);
    if (restored > 0) log.info({ room: id, sessions: restored }, 'took over the room with its occupants');
    // Its last owner died holding it: whatever it had committed but not yet sent is not known here.
    if (restored > 0 && previous !== null && previous !== instanceId) muc.notifyAll(CRASH_NOTICE);
    leaveStalePlayers(room, muc);
    releaseAbsentGuests(room, muc);
  };
  /** Serves every room whose lock is free; rooms another instance holds are tried again later. */
  let warnedFull = false;
  // One claim at a time: a claim that takes longer than the retry period (a slow load) must not
  // overlap the next, or two Room objects would serve one id.
  let claiming: Promise<void> | null = null;
  let claimAll = false;
  const claim = async (all = false): Promise<void> => {
    claimAll ||= all;
    // One in flight at a time; a claim asked for all rooms while one runs runs again after it.
    while (claiming) await claiming.catch(() => {});
    const everything = claimAll;
    claimAll = false;
    claiming ??= claimFreeRooms(everything).finally(() => { claiming = null; });
    return claiming;
  };
  /**
   * Takes every free room (a dead owner's lock is free at once), then, serving
   * more than its share while a peer serves less, hands one room over
   * (`rebalance`); `all`: a stanza waits for a room or an instance let rooms go,
   * so nothing is handed over this time.
   */
  const claimFreeRooms = async (all: boolean) => {
    // A standby serves nothing: the rooms are for the instance the XMPP server let in.
    if (edge.standingBy) return;
    const listed = await listRoomOwners(db);
    edge.knownRooms = new Set(listed.map((r) => r.id));
    edge.elsewhere = listed.filter((r) => !rooms.has(r.id)).map((r) => ({ jid: `${r.id}@${config.xmppDomain}`, title: r.title, occupants: r.occupants }));
    await refreshPeers().catch((err: Error) => log.warn({ err: err.message }, 'reading the other instances'));
    for (const { id } of listed) {
      if (rooms.has(id) || handing.has(id) || (given.get(id) ?? 0) > Date.now()) continue;
      // An instance serves at most ROOMS_MAX rooms; the others stay free for other instances.
      if (rooms.size >= ROOMS_MAX) {
        if (!warnedFull) log.warn({ rooms: rooms.size, limit: ROOMS_MAX }, 'serving as many rooms as one instance may; start another instance for the rest');
        warnedFull = true;
        break;
      }
      if ((await locks.acquire(id)) !== 'held') continue;
      if (stopping) {
        await locks.release(id);
        break;
      }
      await serve(id);
      if (started) log.info({ room: id }, 'took over a room');
    }
    if (!all) await rebalance(listed.length);
  };
  /**
   * Serving more than its fair share of the `total` rooms while a peer serves
   * less (it started later): one room, the emptiest, is handed to that peer per
   * claim period (lib/cluster/balance.ts).
   */
  const rebalance = async (total: number) => {
    if (!link || stopping) return;
    const light = handOverTo(rooms.size, [...peers.values()], total);
    if (!light) return;
    const emptiest = [...rooms.keys()].sort((a, b) => (edge.room(a)?.occupants.size ?? 0) - (edge.room(b)?.occupants.size ?? 0))[0]!;
    light.rooms++;
    await handOverRoom(emptiest, [light.endpoint]);
  };
  /**
   * Another instance may serve it now: stop writing and forget the room. Its
   * players are told (332) unless another instance claimed it since, which
   * serves them on from the session journal.
   */
  const abandon = async (id: string, claimedElsewhere?: boolean) => {
    const room = rooms.get(id);
    if (!room) return;
    const claim = claims.get(id);
    log.warn({ room: id }, 'no longer own the room: stopped serving it');
    room.abandon();
    claim?.journal.close();
    claims.delete(id);
    rooms.delete(id);
    router?.forget(id);
    const quiet = claimedElsewhere ?? (claim ? (await claimedSince(db, id, claim.epoch)) === true : false);
    edge.detach(id, !quiet);
  };
  // A lock lost with its connection: take it back. Only when another instance has
  // it does this one stop serving; while the database cannot be asked (it is
  // restarting), the room goes on and the version fence guards its writes.
  const regain = async (id: string) => {
    for (let pause = OWNERSHIP_RETRY_MS; rooms.has(id); pause = Math.min(pause * 2, OWNERSHIP_RETRY_MS * 8)) {
      const state = await locks.acquire(id);
      if (state === 'held') return;
      if (state === 'taken') return abandon(id);
      await sleep(pause);
    }
  };
  // Refused at the XMPP server because another instance holds the domain (Prosody):
  // whatever this one held goes back, so the instance players can reach claims it.
  edge.onStandby(() => {
    void heartbeat?.beat();
    for (const id of [...rooms.keys()]) {
      const epoch = claims.get(id)?.epoch;
      void abandon(id, false).then(() => (epoch === undefined ? undefined : releaseOwner(db, id, epoch))).then(() => locks.release(id))
        .catch((err: Error) => log.error({ err, room: id }, 'giving a room back'));
    }
  });
  // Let in (at start, after an outage, or taking over from a standby): claim at once rather than at the next period.
  edge.onOnline(() => {
    void heartbeat?.beat();
    if (started && !stopping) void claim().catch((err: Error) => log.warn({ err: err.message }, 'claiming rooms'));
  });
  locks.onLost((lost) => {
    for (const id of lost) void regain(id).catch((err: Error) => log.error({ err, room: id }, 'taking a room lock back'));
  });

  /**
   * A drained room is let go without a word to anyone: its occupants are written,
   * it stops, and its owner row and lock are released. Whoever claims it next
   * restores its occupants from the journal (lib/cluster/sessions.ts).
   */
  const letRoomGo = async (id: string, claim: { epoch: number; journal: SessionJournal }) => {
    await claim.journal.flush().catch((err: Error) => log.warn({ err: err.message, room: id }, 'writing the occupants of a room let go'));
    rooms.get(id)?.abandon();
    claim.journal.close();
    await releaseOwner(db, id, claim.epoch).catch((err: Error) => log.warn({ err: err.message, room: id }, 'letting the room go'));
    await locks.release(id);
    rooms.delete(id);
    claims.delete(id);
    edge.detach(id, false);
    router?.forget(id);
  };
  /**
   * Hands a room to the peers at `to`: it drains (its batches commit and are
   * shown) and is let go; the peers are told so one claims it at once. Stanzas
   * that come meanwhile wait in the router and go to the new owner.
   */
  const handOverRoom = async (id: string, to: readonly string[]) => {
    const room = rooms.get(id);
    const claim = claims.get(id);
    if (!link || !room || !claim) return;
    handing.add(id);
    try {
      await room.drain();
      given.set(id, Date.now() + FORWARD_WAIT_MS_MAX);
      await letRoomGo(id, claim);
    } finally {
      handing.delete(id);
    }
    for (const endpoint of to) link.send(endpoint, { kind: 'released', room: id });
    log.info({ room: id, to }, 'handed the room over');
  };
  /** SIGTERM with other instances alive: every room is handed over, then this instance waits until no stanza is left waiting for an owner. */
  const handOver = async (peerRouter: RoomRouter) => {
    const started = Date.now();
    const ids = [...rooms.keys()];
    const to = [...peers.values()].map((p) => p.endpoint);
    // Bounded: a room whose batches cannot finish in time (the database is away) closes below as when alone.
    const all = Promise.all(ids.map((id) => handOverRoom(id, to))).catch((err: Error) => log.error({ err }, 'handing the rooms over'));
    await Promise.race([all, sleep(SHUTDOWN_MS_MAX)]);
    for (const until = Date.now() + SHUTDOWN_MS_MAX; !peerRouter.idle && Date.now() < until;) await sleep(20);
    log.info({ rooms: ids, ms: Date.now() - started }, 'rooms handed over');
  };

  /**
   * SIGTERM with only a standby (Prosody): it cannot serve before this instance
   * leaves the XMPP server, so the rooms drain, their occupants are written and
   * they are let go without a word to anyone; the standby takes them over with
   * their occupants once let in. Commands meanwhile are answered "shutting down".
   */
  const letGo = async () => {
    edge.closeRooms();
    await Promise.race([Promise.all([...rooms.values()].map((r) => r.drain())), sleep(SHUTDOWN_MS_MAX)]);
    for (const [id, claim] of [...claims]) await letRoomGo(id, claim);
    log.info({ standbys }, 'rooms let go for the standby');
  };

  let started = false;
  let stopping = false;
  // Up before the rooms load, so that a supervisor sees a live process that is not ready yet.
  const metrics = prometheus ? await serveMetrics(prometheus.registry, {
    port: config.metricsPort, host: config.metricsHost,
    readiness: readiness({ db, xmppOnline: () => edge.online, standingBy: () => edge.standingBy, roomsClaimed: () => started, stopping: () => stopping }),
  }) : undefined;
  await claim();
  started = true;
  const claimer = setInterval(() => void claim().catch((err: Error) => log.warn({ err: err.message }, 'claiming rooms')), OWNERSHIP_RETRY_MS);
  claimer.unref();
  await edge.start();
  heartbeat = startHeartbeat({
    db, log, clock: options.clock, heartbeatMs: config.heartbeatMs,
    identity: {
      id: instanceId, host: options.instance?.host ?? os.hostname(),
      pid: options.instance?.pid ?? process.pid, domain: config.xmppDomain, startedAt: new Date(options.clock.nowMs()),
      endpoint: link?.endpoint ?? '',
    },
    state: () => (edge.online ? 'online' : edge.standingBy ? 'standby' : 'offline'),
    rooms: () => [...rooms.keys()].sort(),
    takeCommands: () => {
      const n = commands;
      commands = 0;
      return n;
    },
  });
  await heartbeat.beat();
  // A standby has said so (the edge logs it once); "serving" is for the instance players reach.
  if (!edge.standingBy) log.info({ rooms: [...rooms.keys()], domain: config.xmppDomain, database: db.kind, ...(metrics ? { metrics: `${metrics.url}/metrics` } : {}) }, 'serving');
  return {
    db, edge, rooms,
    stop: async () => {
      stopping = true;
      clearInterval(claimer);
      await claiming?.catch(() => {}); // a claim in flight finishes before the rooms are drained
      // With other instances alive the rooms are handed over and nobody is told to leave;
      // alone, the rooms close as below (332 to everyone).
      await refreshPeers().catch(() => {});
      if (router && peers.size > 0) await handOver(router);
      else if (standbys > 0) await letGo();
      const deadline = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_MS_MAX).unref());
      const drainAll = () => Promise.race([Promise.all([...rooms.values()].map((r) => r.drain())), deadline]);
      edge.closeRooms();
      await drainAll(); // open batches commit and their effects reach the players
      edge.evictAll(); // then everyone leaves (logged leave commands) and hears why
      await drainAll();
      await edge.stop();
      // The peers stop forwarding here, and what they sent before is read and passed on below.
      await link?.farewell(PEER_FAREWELL_MS_MAX);
      // Stanzas the server still handed over while the stream closed go on to their rooms' owners first.
      for (const until = Date.now() + FORWARD_WAIT_MS_MAX; router && !router.idle && Date.now() < until;) await sleep(20);
      if (router) log.info({ forwarded: router.forwarded, received: router.received }, 'peer link totals');
      await heartbeat?.stop();
      await link?.close();
      await locks.close();
      await metrics?.close();
      await db.close();
    },
  };
}

/** Told once to everyone in a room taken over from an instance that died with it. */
const CRASH_NOTICE = 'This world moved to another server just now, so we could not tell whether that was saved if your last command got no answer. Type look to see where you stand.';

/**
 * Characters marked present by a run that did not shut down cleanly, and whose
 * sessions were not recorded (lib/cluster/sessions.ts), have no occupant now: they leave through an ordinary logged command, so a replay of the
 * command log still rebuilds the state.
 */
function leaveStalePlayers(room: Room, muc: MucRoom): void {
  for (const c of room.projection.characters.filter((c) => isPlayer(room.world, c))) {
    if (c.present && !muc.occupants.byNickname(c.nick)) room.submit({ command: { kind: 'leave', nick: c.nick } });
  }
}

/**
 * Nobody is in a room that was just opened, so every guest's character there is
 * released after the usual time unless its JID comes back: a restart does not
 * keep them for ever.
 */
function releaseAbsentGuests(room: Room, muc: MucRoom): void {
  for (const c of room.projection.characters.filter((c) => isPlayer(room.world, c))) {
    if (!c.released && !muc.occupants.byNickname(c.nick)) muc.guests.left(c.nick, c.jid);
  }
}
