// Minimal typings for the parts of xmpp.js Flux uses (the packages ship none).
declare module '@xmpp/xml' {
  export class Element {
    name: string;
    attrs: Record<string, any>;
    children: (Element | string)[];
    parent: Element | null;
    constructor(name: string, attrs?: Record<string, any>);
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    getNS(): string | undefined;
    append(...children: (Element | string)[]): Element;
    toString(): string;
    toJSON(): unknown;
  }
  export function xml(name: string, attrs?: Record<string, any> | null, ...children: (Element | string | undefined | null)[]): Element;
  /** The streaming parser the connection uses (ltx underneath): 'element' per top-level child, 'error' on bad XML. */
  export class Parser {
    write(data: string): void;
    on(event: 'element', listener: (el: Element) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
  }
  export default xml;
}

declare module '@xmpp/jid' {
  export class JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
    equals(other: JID): boolean;
  }
  export function jid(s: string): JID;
  export default jid;
}

declare module '@xmpp/component' {
  import type { Element } from '@xmpp/xml';
  import type { JID } from '@xmpp/jid';
  export interface IqContext {
    stanza: Element;
    element: Element;
    from: JID;
    to: JID;
  }
  export interface Component {
    status: string;
    jid: JID | null;
    start(): Promise<JID>;
    stop(): Promise<void>;
    send(el: Element): Promise<void>;
    on(event: 'stanza', listener: (el: Element) => void): Component;
    on(event: 'error', listener: (err: Error) => void): Component;
    on(event: 'online', listener: (jid: JID) => void): Component;
    on(event: 'offline' | 'disconnect' | 'reconnecting', listener: (...args: any[]) => void): Component;
    on(event: 'status', listener: (status: string, value?: unknown) => void): Component;
    reconnect: { delay: number; stop(): void; start(): void };
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: IqContext) => Element | boolean | Promise<Element | boolean>): void;
      set(ns: string, name: string, handler: (ctx: IqContext) => Element | boolean | Promise<Element | boolean>): void;
    };
    middleware: { use(fn: (ctx: any, next: () => Promise<unknown>) => unknown): void };
  }
  export function component(options: { service: string; domain: string; password: string }): Component;
  export { xml } from '@xmpp/xml';
}

declare module '@xmpp/client' {
  import type { Element } from '@xmpp/xml';
  import type { JID } from '@xmpp/jid';
  export interface Client {
    status: string;
    jid: JID | null;
    start(): Promise<JID>;
    stop(): Promise<void>;
    send(el: Element): Promise<void>;
    on(event: string, listener: (...args: any[]) => void): Client;
    iqCaller: { request(el: Element, timeout?: number): Promise<Element> };
    reconnect: { stop(): void };
  }
  export function client(options: Record<string, unknown>): Client;
  export { xml } from '@xmpp/xml';
}
