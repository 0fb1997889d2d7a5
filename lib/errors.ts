// One error root (STYLE.md §5). `condition` is an XMPP stanza error condition
// (RFC 6120 §8.3.3); only the XMPP edge turns a FluxError into a stanza.
export type ErrorType = 'cancel' | 'modify' | 'wait' | 'auth';

export class FluxError extends Error {
  override name = 'FluxError';
  constructor(
    readonly condition: string,
    message: string,
    readonly type: ErrorType = 'cancel',
  ) {
    super(message);
  }
}

/** Invalid operator configuration: reported as one line, exit code 2. */
export class ConfigError extends FluxError {
  override name = 'ConfigError';
  constructor(message: string) {
    super('internal-server-error', message);
  }
}

/** A world file that cannot be loaded: names the file, line and reason. */
export class WorldError extends FluxError {
  override name = 'WorldError';
  constructor(message: string) {
    super('internal-server-error', message);
  }
}
