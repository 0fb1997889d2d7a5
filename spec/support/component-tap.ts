// A pass-through between a Flux instance and an XMPP server's component port that
// notes every say the server hands to the instance: which commands reached Flux,
// exactly, when the server may drop some on its side (ejabberd, while a component
// connection closes) and its own log drops lines under load.
import net from 'node:net';

const SAY = /<body>say (tok-[a-z]+-\d+)<\/body>/g;
/** Kept from the end of one read, so a say split across two reads is still seen. */
const TAIL_CHARS = 200;

export interface ComponentTap {
  /** Where an instance connects instead of the server. */
  readonly port: number;
  /** The tokens of every say the server wrote to an instance through this tap. */
  readonly handed: Set<string>;
  close(): Promise<void>;
}

export async function tapComponentPort(host: string, serverPort: number): Promise<ComponentTap> {
  const handed = new Set<string>();
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port: serverPort });
    open.add(client).add(upstream);
    let tail = '';
    upstream.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      for (const m of text.matchAll(SAY)) handed.add(m[1]!);
      tail = text.slice(-TAIL_CHARS);
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', () => open.delete(client));
    upstream.on('error', cut).on('close', () => {
      open.delete(upstream);
      client.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    handed,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
