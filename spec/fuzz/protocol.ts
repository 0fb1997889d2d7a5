// What the spec and the hostile process (spec/fuzz/hostile-process.ts) say to each
// other over the IPC channel of child_process.fork.
import type { Names } from './arbitraries.ts';

export interface Account {
  readonly username: string;
  readonly password: string;
  /** The nick it joins the world as before the campaign. */
  readonly nick: string;
}

export interface HostileSetup {
  /** xmpp://127.0.0.1:PORT */
  readonly c2s: string;
  readonly c2sPort: number;
  /** The accounts' virtual host, and the anonymous one. */
  readonly serverHost: string;
  readonly anonHost: string;
  readonly room: string;
  readonly domain: string;
  readonly names: Names;
  /** Bare JIDs of the honest players (invitees that exist; their nicks are in names.honest). */
  readonly honestJids: readonly string[];
  /** Registered hostile accounts, joined before the campaign: the occupants of the refused-only phase. */
  readonly occupants: readonly Account[];
  /** Anonymous xmpp.js connections, and raw sockets working at once. */
  readonly strangers: number;
  readonly raws: number;
  readonly seed: number;
}

export type Phase = 'refused' | 'mixed';

export interface PhaseRun {
  readonly phase: Phase;
  readonly stanzas: number;
  /** Stanzas per second, over all connections. */
  readonly rate: number;
}

/** Per raw category: payloads written, and for those Prosody must refuse, whether it closed the stream. */
export interface RawTally {
  sent: number;
  closedByServer: number;
  leftOpen: number;
}

export interface PhaseReport {
  readonly phase: Phase;
  readonly ms: number;
  /** Stanzas written, per category (raw payloads included). */
  readonly sent: Record<string, number>;
  readonly raw: Record<string, RawTally>;
  /** Sends that failed: the stream was gone by then. */
  readonly failedSends: number;
  /** xmpp.js streams Prosody closed, with the category of the last stanza written before. */
  readonly closedByServer: { readonly lane: string; readonly after: string; readonly errors: string }[];
  /** Anonymous connections opened (recycled ones and replacements included). */
  readonly connections: number;
  readonly received: number;
  /** Stanza errors received by the hostile clients, by condition. */
  readonly conditions: Record<string, number>;
  /** Raw sessions whose login failed (Prosody busy or refusing). */
  readonly rawLoginFailures: number;
}

export type ToHostile =
  | { readonly type: 'setup'; readonly setup: HostileSetup }
  | { readonly type: 'run'; readonly run: PhaseRun }
  | { readonly type: 'stop' };

export type FromHostile =
  | { readonly type: 'ready'; readonly jids: readonly string[] }
  | { readonly type: 'report'; readonly report: PhaseReport }
  | { readonly type: 'stopped' }
  | { readonly type: 'failed'; readonly message: string };
