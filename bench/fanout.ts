// The fan-out path alone: one batch's rendered messages to a crowd, turned into
// stanzas and written to a TCP socket (a local sink standing in for the XMPP
// server). It times what Flux spends between COMMIT and the bytes leaving, per
// delivered stanza. Part of `make bench`; `npm run bench:fanout` alone.
import net from 'node:net';
import { once } from 'node:events';
import { pino } from 'pino';
import { MucRoom } from '../lib/xmpp/muc.ts';
import type { Room } from '../lib/rooms/index.ts';
import type { Rendered } from '../lib/effects/index.ts';
import { Outbox } from '../lib/xmpp/outbox.ts';

export interface FanoutFigures {
  readonly occupants: number;
  readonly messagesPerBatch: number;
  readonly usPerStanza: number;
  readonly socketWritesPerBatch: number;
  readonly bytesPerStanza: number;
}

/** A room of `occupants` players in one place; each batch is `says` says heard by everyone. */
export async function benchFanout(occupants = 1000, says = 20, batches = 10): Promise<FanoutFigures> {
  const sink = net.createServer((s) => s.resume());
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const socket = net.connect((sink.address() as net.AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  let writes = 0;
  let bytes = 0;
  // As the edge does: what one turn of the event loop writes leaves in one socket write.
  const outbox = new Outbox((chunk) => { writes++; bytes += chunk.length; socket.write(chunk); });
  const write = (s: string) => outbox.push(s);
  const characters = Array.from({ length: occupants }, (_, id) => ({ id, nick: `player${id}`, present: true, location: 0 }));
  const room = { id: 'realm', projection: { characters }, world: { anonymity: 'semi', subject: 's', startLocation: 0 }, submit: () => true, character: (n: string) => characters.find((c) => c.nick === n) } as unknown as Room;
  const muc = new MucRoom(room, {
    domain: 'game.localhost', log: pino({ level: 'silent' }), clock: { nowMs: () => 0 },
    limits: { bodyBytesMax: 1024, commandsPerS: 10, occupantsMax: occupants, charactersMax: occupants, outputBytesPerS: 1e12, newCharactersPerDomainPerMin: 1e6 },
    telemetry: { stanzasSent: () => {}, commandRefused: () => {}, commandAccepted: () => {} } as never,
    write, shedding: () => false, joinBudget: () => Infinity,
  });
  for (const c of characters) muc.occupants.announced(muc.occupants.add(c.nick, c.nick.toLowerCase(), `${c.nick}@anon.localhost`, `${c.nick}@anon.localhost/r`)!.occupant);
  const messages = [];
  for (let s = 0; s < says; s++) {
    const body = `say number ${s} from a player with <odd> & "quoted" text`;
    for (let to = 0; to < occupants; to++) messages.push({ to, speaker: `player${s}`, body });
  }
  const rendered: Rendered = { messages, speech: [] };
  muc.deliver(rendered, []); // warm up
  await new Promise((r) => setImmediate(r));
  writes = 0; bytes = 0;
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    muc.deliver(rendered, []);
    await new Promise((r) => setImmediate(r)); // the batch leaves before the next one commits
  }
  const elapsedMs = performance.now() - t0;
  const stanzas = messages.length * batches;
  socket.destroy();
  sink.close();
  return { occupants, messagesPerBatch: messages.length, usPerStanza: (elapsedMs * 1000) / stanzas, socketWritesPerBatch: writes / batches, bytesPerStanza: bytes / stanzas };
}

export function printFanout(f: FanoutFigures): void {
  process.stdout.write(`fan-out to ${f.occupants} in one place, ${f.messagesPerBatch.toLocaleString('en')} stanzas a batch: ${f.usPerStanza.toFixed(2)} µs per stanza, ${f.socketWritesPerBatch} socket writes a batch, ${f.bytesPerStanza.toFixed(0)} bytes a stanza\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) printFanout(await benchFanout());
