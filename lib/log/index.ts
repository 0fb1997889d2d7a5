// pino JSON logs; pretty when a person is watching a terminal (DESIGN §2).
// Secrets never reach the log: values under secret-named keys are censored, and
// the password of any URL (a DATABASE_URL in an error message, a stack, an
// object) is masked in the finished line, wherever in it it stands.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Keys whose values are secrets, at the top of a logged object or one or two levels down. */
const SECRET_KEYS = ['password', 'secret', 'xmppSecret', 'componentSecret', 'FLUX_XMPP_SECRET', 'authorization'];

/** pino's redact paths: explicit paths, so each key is listed at each depth it may take. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  'err.config.password', 'err.config.connectionString', // node-postgres errors may carry their client's config
];

export const REDACTED = '[redacted]';

/**
 * scheme://user:PASSWORD@host -> scheme://user:***@host. The password runs to the
 * last @ of the authority (WHATWG URL reads it so); in a JSON line it may hold
 * escapes (\") but no bare quote, so it never reaches into the next field.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s"\\]*):(?:[^/?#\s"\\]|\\.)+@/gi;

export function maskCredentials(text: string): string {
  return text.replace(URL_PASSWORD, '$1:***@');
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    hooks: { streamWrite: maskCredentials },
  };
}

export function createLogger(level: string, pretty = process.stdout.isTTY === true, destination?: DestinationStream): Logger {
  if (destination) return pino(loggerOptions(level), destination);
  if (!pretty) return pino(loggerOptions(level));
  return pino({ ...loggerOptions(level), transport: { target: 'pino-pretty', options: { colorize: true } } });
}
