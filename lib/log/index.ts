// pino JSON logs; pretty when a person is watching a terminal (DESIGN §2).
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  if (!pretty) return pino({ level });
  return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true } } });
}
