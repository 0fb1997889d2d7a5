// The running server: database, rooms and the XMPP edge, wired once here.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import { ROOT_DIR } from './config/index.ts';
import { openDb, migrate, type Db } from './db/index.ts';
import { installWorlds } from './world/index.ts';
import { isPlayer, listRooms, loadRoom } from './contextualization/index.ts';
import { engineFactory } from './engines/index.ts';
import { Affiliations, embeddedLocks, postgresLocks, Room, type StageTimes } from './rooms/index.ts';
import { XmppEdge, type MucRoom } from './xmpp/index.ts';
import { noTelemetry, PrometheusTelemetry, readiness, serveMetrics, startHeartbeat, type Heartbeat, type InstanceIdentity, type Telemetry } from './metrics/index.ts';
import { OWNERSHIP_RETRY_MS, ROOMS_MAX, SHUTDOWN_MS_MAX } from './constants.ts';
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
  readonly instance?: Omit<InstanceIdentity, 'domain' | 'startedAt'>;
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
  const edge = new XmppEdge({
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

  /** Loads a room this instance now holds and opens it to players. */
  const serve = async (id: string) => {
    const loaded = await loadRoom(db, id);
    if (!loaded) return;
    const affiliations = await Affiliations.load(db, id);
    const room = new Room({
      db, log: log.child({ room: id }), loaded, engine: makeEngine(loaded.world),
      tickMs: config.tickMs, batchMax: config.batchCommandsMax, npcTickMs: config.npcTickMs,
      deliver: (r, rendered, batch) => edge.room(r.id)?.deliver(rendered, batch),
      refuse: (r, batch, reason) => edge.room(r.id)?.refuse(batch, reason),
      unanswerable: (r, commands) => edge.room(r.id)?.unanswerable(commands),
      telemetry, affiliations, isBuilder: affiliations.isBuilder, onBatch,
    });
    rooms.set(id, room);
    const muc = edge.attach(room);
    leaveStalePlayers(room);
    releaseAbsentGuests(room, muc);
  };
  /** Serves every room whose lock is free; rooms another instance holds are tried again later. */
  let warnedFull = false;
  // One claim at a time: a claim that takes longer than the retry period (a slow load) must not
  // overlap the next, or two Room objects would serve one id.
  let claiming: Promise<void> | null = null;
  const claim = (): Promise<void> => (claiming ??= claimFreeRooms().finally(() => { claiming = null; }));
  const claimFreeRooms = async () => {
    // A standby serves nothing: the rooms are for the instance the XMPP server let in.
    if (edge.standingBy) return;
    const all = await listRooms(db);
    edge.knownRooms = new Set(all.map((r) => r.id));
    for (const { id } of all) {
      if (rooms.has(id)) continue;
      // An instance serves at most ROOMS_MAX rooms; the others stay free for other instances.
      if (rooms.size >= ROOMS_MAX) {
        if (!warnedFull) log.warn({ rooms: rooms.size, limit: ROOMS_MAX }, 'serving as many rooms as one instance may; start another instance for the rest');
        warnedFull = true;
        break;
      }
      if ((await locks.acquire(id)) !== 'held') continue;
      await serve(id);
      if (started) log.info({ room: id }, 'took over a room');
    }
  };
  /** Another instance may serve it now: stop writing, tell the players, forget the room. */
  const abandon = async (id: string) => {
    const room = rooms.get(id);
    if (!room) return;
    log.warn({ room: id }, 'no longer own the room: stopped serving it');
    room.abandon();
    rooms.delete(id);
    edge.detach(id);
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
      void abandon(id).then(() => locks.release(id)).catch((err: Error) => log.error({ err, room: id }, 'giving a room back'));
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
      id: options.instance?.id ?? randomUUID().slice(0, 8), host: options.instance?.host ?? os.hostname(),
      pid: options.instance?.pid ?? process.pid, domain: config.xmppDomain, startedAt: new Date(options.clock.nowMs()),
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
      const deadline = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_MS_MAX).unref());
      const drainAll = () => Promise.race([Promise.all([...rooms.values()].map((r) => r.drain())), deadline]);
      edge.closeRooms();
      await drainAll(); // open batches commit and their effects reach the players
      edge.evictAll(); // then everyone leaves (logged leave commands) and hears why
      await drainAll();
      await edge.stop();
      await heartbeat?.stop();
      await locks.close();
      await metrics?.close();
      await db.close();
    },
  };
}

/**
 * Characters marked present by a run that did not shut down cleanly have no
 * occupant now: they leave through an ordinary logged command, so a replay of the
 * command log still rebuilds the state.
 */
function leaveStalePlayers(room: Room): void {
  for (const c of room.projection.characters.filter((c) => isPlayer(room.world, c))) {
    if (c.present) room.submit({ command: { kind: 'leave', nick: c.nick } });
  }
}

/**
 * Nobody is in a room that was just opened, so every guest's character there is
 * released after the usual time unless its JID comes back: a restart does not
 * keep them for ever.
 */
function releaseAbsentGuests(room: Room, muc: MucRoom): void {
  for (const c of room.projection.characters.filter((c) => isPlayer(room.world, c))) {
    if (!c.released) muc.guests.left(c.nick, c.jid);
  }
}
