// The XMPP servers Flux can start privately (the demo, the specs, the bench), each
// from its Debian package: one list, so a second server is one entry here.
import { prosodyBinary, startPrivateProsody } from './prosody.ts';
import { ejabberdBinary, startPrivateEjabberd } from './ejabberd.ts';
import type { PrivateServerOptions, PrivateXmppServer } from './private-server.ts';

export interface XmppServerKind {
  readonly name: string;
  /** The Debian package that installs it. */
  readonly package: string;
  /** Its executable, or null when it is not installed. */
  installed(): string | null;
  start(options: PrivateServerOptions): Promise<PrivateXmppServer>;
  /**
   * The host name in the console page's link. Prosody answers any name with its
   * http_default_host; ejabberd's file server answers only a name it hosts
   * ('localhost', which resolves to the 127.0.0.1 it listens on).
   */
  readonly pageHost: string;
}

export const XMPP_SERVERS = {
  prosody: { name: 'Prosody', package: 'prosody', installed: prosodyBinary, start: startPrivateProsody, pageHost: '127.0.0.1' },
  ejabberd: { name: 'ejabberd', package: 'ejabberd', installed: ejabberdBinary, start: startPrivateEjabberd, pageHost: 'localhost' },
} as const satisfies Record<string, XmppServerKind>;

export type ServerKind = keyof typeof XMPP_SERVERS;
export const SERVER_KINDS = Object.keys(XMPP_SERVERS) as ServerKind[];
