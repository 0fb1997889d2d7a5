// bin/flux load: a load generator an operator can point at any Flux world (issue
// #8). N real XMPP clients log in (SASL ANONYMOUS, or numbered accounts), join the
// room and type a command mix at a fixed rate; every command is matched to its
// answer (./answers.ts), and the time until the client sees it is the command ->
// effect latency. With `echo` set, the clients message a trivial echo component
// instead: the ceiling of the XMPP server itself on the same machine. The bench
// drives the same crowd (./crowd.ts) step by step.
import { Crowd } from './crowd.ts';
import type { CommandKind } from './answers.ts';

export { Crowd, type CrowdOptions, type JoinReport, type StepReport, type TargetKind } from './crowd.ts';
export { classifyRoomLine, commandFor, tokenSeq, type CommandKind, type Mix } from './answers.ts';
export { startEcho, type EchoComponent } from './echo.ts';

export interface LoadOptions {
  /** c2s service, e.g. xmpp://127.0.0.1:5222 */
  readonly service: string;
  /** The host the clients log in to. */
  readonly domain: string;
  /** A Flux room JID, or an echo component JID when `echo` is set. */
  readonly target: string;
  readonly clients: number;
  /** Commands per second, per client. */
  readonly rate: number;
  readonly seconds: number;
  /** Numbered accounts `${prefix}${i}` with this password; default SASL ANONYMOUS. */
  readonly accounts?: { readonly prefix: string; readonly password: string };
  readonly echo?: boolean;
  /** Only `say` (every command a say), as the echo target gets. */
  readonly saysOnly?: boolean;
  /** Progress lines go here (stderr for the CLI). */
  readonly progress?: (line: string) => void;
}

export interface LoadReport {
  /** Clients that logged in and joined, and so sent. */
  readonly clients: number;
  readonly seconds: number;
  readonly sent: number;
  /** Commands whose own answer came back. */
  readonly answered: number;
  /** Commands sent per second (offered load). */
  readonly commandsPerS: number;
  /** Answers per second. */
  readonly answeredPerS: number;
  /** null when no answer came back at all (a latency of 0 would be a lie). */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  readonly errors: number;
  /** Refusals ("The world is very busy..."): answers, but not the command's. */
  readonly refused: number;
  readonly loginFailed: number;
  readonly joinFailed: number;
  readonly kinds: Record<CommandKind, { sent: number; answered: number }>;
}

/** A latency for people: "12.3 ms", or "none came back". */
export const ms = (v: number | null) => (v === null ? 'none came back' : `${v.toFixed(1)} ms`);

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const kind = o.echo ? 'echo' : 'flux';
  const crowd = await Crowd.login({ ...o, kind });
  try {
    const join = kind === 'flux' ? await crowd.join() : { failed: 0 };
    if (kind === 'flux' && !o.saysOnly) await crowd.spread();
    o.progress?.(`${crowd.size} clients ready; sending for ${o.seconds} s at ${o.rate}/s each`);
    const step = await crowd.drive(crowd.size * o.rate, o.seconds, o.echo || o.saysOnly ? 'says' : 'game');
    return {
      clients: step.clients, seconds: o.seconds, sent: step.sent, answered: step.answered, commandsPerS: step.sentPerS,
      answeredPerS: step.answeredPerS, p50Ms: step.p50Ms, p99Ms: step.p99Ms, maxMs: step.maxMs, errors: step.errors,
      refused: step.refused, loginFailed: crowd.loginFailed, joinFailed: join.failed, kinds: step.kinds,
    };
  } finally {
    await crowd.stop();
  }
}
