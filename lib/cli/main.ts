// bin/flux: serve | migrate | demo | world import|export | replay. The only place
// that reads the environment, the real clock and process signals (STYLE.md §6).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ms, runLoad } from '../load/index.ts';
import { ConfigError, WorldError } from '../errors.ts';
import { loadConfig, requireSecret, type Config } from '../config/index.ts';
import { createLogger, maskCredentials } from '../log/index.ts';
import { prepareDatabase, startService } from '../service.ts';
import { runDemo } from '../demo/index.ts';
import { SERVER_KINDS, type ServerKind } from '../demo/servers.ts';
import { untilSignal } from './signals.ts';
import { openDb, migrate } from '../db/index.ts';
import { exportWorld, installWorld, readWorldFile, worldToYaml } from '../world/index.ts';
import { replayRoom } from '../rooms/index.ts';
import { engineFactory } from '../engines/index.ts';
import type { Logger } from 'pino';
import { BATCH_COMMANDS_MAX } from '../constants.ts';
import { formatInstances, readInstances } from '../metrics/index.ts';

const USAGE = `usage: flux <command>
  serve     run the component (config from config/default.json and the environment)
  migrate   apply database migrations and install new worlds, then exit
  demo [--server prosody|ejabberd]
            start a private XMPP server (Prosody unless asked), the component and an embedded database,
            and print how to connect
  world import <file>         check a world file and install it as a new room (nothing is written if it has an error)
  world export <room> <file>  write a room's world definition as YAML (import gives the same world back)
  status [--json]             the instances sharing this database: state (online, standby, offline, stopped, or silent when
                              not heard from for 3 heartbeats), rooms, commands/s and when each was last heard from
  replay <room>               replay the room's command log from its initial world and compare with the stored state
  load --target ROOM_JID --service xmpp://HOST:PORT --domain HOST [--clients N] [--rate PER_S] [--seconds S]
       [--accounts PREFIX:PASSWORD] [--echo]
                              drive a world with N real clients (SASL ANONYMOUS unless --accounts) and report
                              commands/s and command -> effect latency (p50, p99, max)`;

const realClock = { nowMs: () => Date.now() };

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!['serve', 'migrate', 'demo', 'world', 'replay', 'load', 'status'].includes(command)) {
    process.stderr.write(`flux: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
    return 2;
  }
  if (command === 'load') return load(argv.slice(1));
  let config: Config;
  try {
    config = loadConfig(process.env);
    if (command === 'serve') requireSecret(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`flux: invalid configuration: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  if (command === 'migrate') {
    const db = await prepareDatabase(config, log);
    await db.close();
    return 0;
  }
  if (command === 'demo') return demo(argv.slice(1), config, log);
  if (command === 'world') return world(argv.slice(1), config, log);
  if (command === 'replay') return replay(argv[1], config, log);
  if (command === 'status') return status(argv.slice(1), config, log);
  const service = await startService({ config, log, clock: realClock });
  await untilSignal();
  log.info('shutting down');
  await service.stop();
  return 0;
}

/** The configured database, migrated; unlike serve, no world is installed. */
async function demo(args: string[], config: Config, log: Logger): Promise<number> {
  const [flag, kind = 'prosody'] = args;
  if ((flag !== undefined && flag !== '--server') || !SERVER_KINDS.includes(kind as ServerKind)) {
    process.stderr.write(`flux demo: the server is one of ${SERVER_KINDS.join(', ')} (--server NAME)\n`);
    return 2;
  }
  return runDemo(config, log, realClock, kind as ServerKind);
}

async function openDatabase(config: Config, log: Logger) {
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  await migrate(db);
  return db;
}

async function world([verb, ...args]: string[], config: Config, log: Logger): Promise<number> {
  if (verb === 'import' && args.length === 1) {
    let definition;
    try {
      definition = readWorldFile(args[0]!); // checked whole before the database is touched
    } catch (err) {
      if (!(err instanceof WorldError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      process.stderr.write(`flux: ${err instanceof WorldError ? err.message : `cannot read ${args[0]}`}\n`);
      return 1;
    }
    const db = await openDatabase(config, log);
    try {
      if (!(await installWorld(db, definition))) {
        process.stderr.write(`flux: a room called ${definition.id} already exists; nothing was written\n`);
        return 1;
      }
    } finally {
      await db.close();
    }
    process.stdout.write(`installed ${definition.id}: ${definition.locations.length} locations, ${definition.items.length} items, ${definition.npcs.length} NPCs\n`);
    return 0;
  }
  if (verb === 'export' && args.length === 2) {
    const db = await openDatabase(config, log);
    try {
      const definition = await exportWorld(db, args[0]!);
      if (!definition) {
        process.stderr.write(`flux: there is no room called ${args[0]}\n`);
        return 1;
      }
      writeFileSync(args[1]!, worldToYaml(definition));
    } finally {
      await db.close();
    }
    return 0;
  }
  process.stderr.write(`flux: usage: flux world import <file> | flux world export <room> <file>\n`);
  return 2;
}

async function replay(room: string | undefined, config: Config, log: Logger): Promise<number> {
  if (room === undefined) {
    process.stderr.write('flux: usage: flux replay <room>\n');
    return 2;
  }
  const db = await openDatabase(config, log);
  try {
    const r = await replayRoom(db, room, engineFactory(config.engine, BATCH_COMMANDS_MAX, log), log);
    if (!r) {
      process.stderr.write(`flux: there is no room called ${room}\n`);
      return 1;
    }
    process.stdout.write(`${room}: replayed ${r.batches} batches (${r.commands} commands) to version ${r.version}\n`);
    if (r.divergence === null) {
      process.stdout.write('the replayed state matches the stored state\n');
      return 0;
    }
    process.stdout.write(`DIVERGED: ${r.divergence}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

/** The instances table (each running instance writes its row every FLUX_HEARTBEAT_MS). */
async function status(args: string[], config: Config, log: Logger): Promise<number> {
  if (args.some((a) => a !== '--json')) {
    process.stderr.write('flux: usage: flux status [--json]\n');
    return 2;
  }
  if (config.databaseUrl === '') {
    // The embedded database belongs to the one process that serves: another cannot open it beside it.
    process.stderr.write('flux: status reads the instances from PostgreSQL (DATABASE_URL); with the embedded database there is one instance, and its /readyz says how it is\n');
    return 2;
  }
  const db = await openDatabase(config, log);
  try {
    const instances = await readInstances(db);
    process.stdout.write(args.includes('--json') ? `${JSON.stringify(instances, null, 2)}\n` : formatInstances(instances));
    return 0;
  } finally {
    await db.close();
  }
}

async function load(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, strict: true,
    options: {
      target: { type: 'string' }, service: { type: 'string' }, domain: { type: 'string' }, clients: { type: 'string', default: '10' },
      rate: { type: 'string', default: '1' }, seconds: { type: 'string', default: '20' }, accounts: { type: 'string' }, echo: { type: 'boolean', default: false },
    },
  });
  const numbers = { clients: Number(values.clients), rate: Number(values.rate), seconds: Number(values.seconds) };
  if (!values.target || !values.service || !values.domain || Object.values(numbers).some((n) => !(n > 0))) {
    process.stderr.write(`flux: load needs --target, --service, --domain and positive --clients, --rate, --seconds\n${USAGE}\n`);
    return 2;
  }
  const [prefix, password] = values.accounts?.split(':') ?? [];
  const report = await runLoad({
    service: values.service, domain: values.domain, target: values.target, ...numbers, echo: values.echo,
    ...(prefix !== undefined && password !== undefined ? { accounts: { prefix, password } } : {}),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${report.clients} clients, ${report.seconds} s: ${report.commandsPerS} commands/s sent, ${report.answered} answers measured, `
    + `latency p50 ${ms(report.p50Ms)}, p99 ${ms(report.p99Ms)}, max ${ms(report.maxMs)}, ${report.errors} errors\n${JSON.stringify(report)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    // Not through the logger, so masked here: a driver's message may quote the DATABASE_URL.
    process.stderr.write(`flux: ${err instanceof ConfigError ? 'invalid configuration: ' : ''}${maskCredentials(err.message)}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
