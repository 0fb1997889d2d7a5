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
}

export const XMPP_SERVERS = {
  prosody: { name: 'Prosody', package: 'prosody', installed: prosodyBinary, start: startPrivateProsody },
  ejabberd: { name: 'ejabberd', package: 'ejabberd', installed: ejabberdBinary, start: startPrivateEjabberd },
} as const satisfies Record<string, XmppServerKind>;

export type ServerKind = keyof typeof XMPP_SERVERS;
export const SERVER_KINDS = Object.keys(XMPP_SERVERS) as ServerKind[];
