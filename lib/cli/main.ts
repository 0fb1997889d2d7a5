// bin/flux: serve | migrate | demo. The only place that reads the environment,
// the real clock and process signals (STYLE.md §6).
import { ConfigError } from '../errors.ts';
import { loadConfig, requireSecret, type Config } from '../config/index.ts';
import { createLogger } from '../log/index.ts';
import { prepareDatabase, startService } from '../service.ts';
import { runDemo } from '../demo/index.ts';
import { untilSignal } from './signals.ts';

const USAGE = `usage: flux <command>
  serve     run the component (config from config/default.json and the environment)
  migrate   apply database migrations and install new worlds, then exit
  demo      start a private Prosody, the component and an embedded database, and print how to connect`;

const realClock = { nowMs: () => Date.now() };

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!['serve', 'migrate', 'demo'].includes(command)) {
    process.stderr.write(`flux: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
    return 2;
  }
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
  if (command === 'demo') return runDemo(config, log, realClock);
  const service = await startService({ config, log, clock: realClock });
  await untilSignal();
  log.info('shutting down');
  await service.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`flux: ${err instanceof ConfigError ? 'invalid configuration: ' : ''}${err.message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
