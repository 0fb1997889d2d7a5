// A trivial XEP-0114 component that sends every message body straight back: the
// XMPP server's own ceiling on this machine, for comparison with Flux.
import { component, xml } from '@xmpp/component';

export interface EchoComponent {
  stop(): Promise<void>;
}

export async function startEcho(service: string, domain: string, password: string): Promise<EchoComponent> {
  const c = component({ service, domain, password });
  c.on('error', () => {});
  c.on('stanza', (el) => {
    if (el.name !== 'message' || el.attrs.type === 'error') return;
    const body = el.getChildText('body');
    if (body === null) return;
    void c.send(xml('message', { to: String(el.attrs.from), from: String(el.attrs.to), type: String(el.attrs.type ?? 'chat') }, xml('body', {}, body))).catch(() => {});
  });
  await c.start();
  return { stop: async () => { c.reconnect.stop(); await c.stop().catch(() => {}); } };
}
