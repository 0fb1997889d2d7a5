// The Flux console page: a MUD console in the browser over XMPP on a websocket
// (RFC 7395). Runs in the browser only: lib/web/build.ts compiles it, as one
// script, into build/web/ beside xmpp.js's browser build (the global `XMPP`).
// Player text only ever reaches the page as textContent; what is clickable comes
// from the `<place xmlns="urn:flux:place:0">` data of a description, never from text.

/** The part of xmpp.js's browser build (@xmpp/client dist/xmpp.min.js) this page uses. */
interface XmlElement {
  name: string;
  attrs: Record<string, string | undefined>;
  getChild(name: string, xmlns?: string): XmlElement | undefined;
  getChildren(name: string, xmlns?: string): XmlElement[];
  getChildElements(): XmlElement[];
  getChildText(name: string, xmlns?: string): string | null;
  is(name: string, xmlns?: string): boolean;
}
interface XmppClient {
  readonly reconnect: { stop(): void };
  readonly iqCaller: { request(el: XmlElement, timeoutMs?: number): Promise<XmlElement> };
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: XmlElement): Promise<void>;
  on(event: 'stanza', listener: (el: XmlElement) => void): void;
  on(event: 'error' | 'disconnect' | 'offline' | 'online', listener: (arg: unknown) => void): void;
}
interface XmppGlobal {
  client(options: { service: string; domain: string; username?: string; password?: string; resource?: string }): XmppClient;
  xml(name: string, attrs?: Record<string, string> | null, ...children: Array<XmlElement | string>): XmlElement;
}
declare const XMPP: XmppGlobal;

/** Where to play: config.json beside the page, then the page's own query (?world=realm wins). */
interface PageConfig {
  /** The websocket endpoint; relative to the page's own host when it starts with '/'. */
  websocket: string;
  /** The XMPP host players log in to. */
  domain: string;
  /** Flux's component domain: worlds are world@mucDomain. */
  mucDomain: string;
  world: string;
  /** 'register': a private account made in-band (XEP-0077) and kept in this browser; 'anonymous': SASL ANONYMOUS. */
  login: 'register' | 'anonymous';
  /** Seconds between XEP-0410 self-pings. */
  pingS: number;
  /** Lines the log keeps; older ones go. */
  logLines: number;
}

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_PLACE = 'urn:flux:place:0';
const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
/** Lines kept in the log by default (?logLines= changes it, within LOG_LINES_MIN..LOG_LINES_MAX). */
const LOG_LINES_DEFAULT = 500;
const LOG_LINES_MIN = 10;
const LOG_LINES_MAX = 5000;
/** Commands Up/Down recall, kept across reloads. */
const HISTORY_COMMANDS_MAX = 100;
/** Join history asked of the room (XEP-0045 §7.2.15). */
const JOIN_HISTORY_STANZAS_MAX = 20;
const RECONNECT_MS_MIN = 500;
const RECONNECT_MS_MAX = 15000;
const PING_REPLY_MS_MAX = 10000;
const REGISTER_MS_MAX = 10000;
/** Pause before a rejoin the world answered with a transient error (Flux not reconnected to the server yet). */
const REJOIN_RETRY_MS = 2000;
/** A join with no answer at all is sent again after this long (ejabberd drops a presence for a component that is away). */
const JOIN_ANSWER_MS_MAX = 5000;
/**
 * Join errors a rejoin does not wait out: they are about the player, not about the
 * world coming back. Any other error on a rejoin is retried (Flux answers
 * `service-unavailable` while it starts; the server bounces a presence for a
 * component that is away, ejabberd with `forbidden`), REJOIN_TRIES_MAX times.
 */
const FINAL_JOIN_ERRORS = new Set(['conflict', 'jid-malformed', 'not-authorized', 'registration-required', 'item-not-found']);
const REJOIN_TRIES_MAX = 30;
/** Commands remembered by message id until their reflection comes back. */
const SENT_COMMANDS_MAX = 64;
/** Pixels from the bottom that still count as "at the bottom". */
const AT_BOTTOM_PX = 8;
const KEY = { nick: 'flux.nick', history: 'flux.history', account: 'flux.account' } as const;

type LineKind = 'world' | 'say' | 'whisper' | 'cmd' | 'info' | 'error';
type State = 'connecting' | 'online' | 'joining' | 'joined' | 'offline';

interface Account {
  readonly domain: string;
  readonly username: string;
  readonly password: string;
}

async function loadConfig(): Promise<PageConfig> {
  const config: PageConfig = { websocket: '/xmpp-websocket', domain: location.hostname, mucDomain: '', world: 'realm', login: 'anonymous', pingS: 30, logLines: LOG_LINES_DEFAULT };
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (response.ok) Object.assign(config, await response.json());
  } catch { /* no config.json: the query and the defaults */ }
  const query = new URLSearchParams(location.search);
  for (const key of ['websocket', 'domain', 'mucDomain', 'world', 'login'] as const) {
    const value = query.get(key);
    if (value) (config as unknown as Record<string, string>)[key] = value;
  }
  const ping = Number(query.get('pingS'));
  if (ping > 0) config.pingS = ping;
  const lines = Number(query.get('logLines'));
  if (Number.isInteger(lines) && lines >= LOG_LINES_MIN && lines <= LOG_LINES_MAX) config.logLines = lines;
  if (config.websocket.startsWith('/')) config.websocket = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${config.websocket}`;
  return config;
}

function stored<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}

function store(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch { /* private mode: remembered for this page only */ }
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** The log: bounded, follows new lines only while the reader is at the bottom. */
class Log {
  private readonly el = byId<HTMLDivElement>('log');
  private readonly below = byId<HTMLButtonElement>('below');

  constructor(private readonly linesMax: number) {
    this.el.addEventListener('scroll', () => {
      if (this.atBottom()) this.below.hidden = true;
    });
    this.below.addEventListener('click', () => this.toBottom());
  }

  line(kind: LineKind, text: string, extra: string[] = []): HTMLDivElement {
    const div = document.createElement('div');
    div.className = [kind, ...extra].join(' ');
    div.textContent = text;
    this.add(div);
    return div;
  }

  add(div: HTMLElement): void {
    const follow = this.atBottom();
    this.el.append(div);
    while (this.el.childElementCount > this.linesMax) this.el.firstElementChild!.remove();
    if (follow) this.toBottom();
    else this.below.hidden = false;
  }

  private atBottom(): boolean {
    return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight <= AT_BOTTOM_PX;
  }

  private toBottom(): void {
    this.el.scrollTop = this.el.scrollHeight;
    this.below.hidden = true;
  }
}

/** Commands typed before, deduplicated (the latest use counts), kept in localStorage. */
class CommandHistory {
  private readonly commands: string[] = stored<string[]>(KEY.history, []).filter((c) => typeof c === 'string').slice(-HISTORY_COMMANDS_MAX);
  private cursor = this.commands.length;

  add(command: string): void {
    const at = this.commands.indexOf(command);
    if (at >= 0) this.commands.splice(at, 1);
    this.commands.push(command);
    if (this.commands.length > HISTORY_COMMANDS_MAX) this.commands.shift();
    this.cursor = this.commands.length;
    store(KEY.history, this.commands);
  }

  /** -1: older, +1: newer; past the newest, an empty line. */
  step(direction: -1 | 1): string | null {
    const next = this.cursor + direction;
    if (next < 0 || next > this.commands.length) return null;
    this.cursor = next;
    return this.commands[next] ?? '';
  }
}

/** What a join error means to a player (XEP-0045 §7.2.6-§7.2.10); Flux's own text follows when it sends one. */
function joinErrorLine(condition: string, text: string, nick: string, world: string): string {
  const said = text === '' ? '' : ` (${text})`;
  switch (condition) {
    case 'conflict': return `The name "${nick}" is taken by another player. Pick another name.${said}`;
    case 'jid-malformed': return `The name "${nick}" cannot be used${said}. Pick another name.`;
    case 'not-allowed': case 'forbidden': case 'registration-required': return `You may not join ${world}${said}.`;
    case 'policy-violation': return `${text || 'That is not allowed here.'} Pick another name or try later.`;
    case 'resource-constraint': return `The world is busy${said}. Try again in a moment.`;
    case 'item-not-found': return `There is no world called "${world}".`;
    case 'service-unavailable': return `${world} is not available right now${said}. Try again in a moment.`;
    default: return `Could not join ${world}: ${condition}${said}.`;
  }
}

/** RFC 6120 §8.3.2: the defined condition and the optional text of a stanza error. */
function stanzaError(el: XmlElement): { condition: string; text: string } {
  const error = el.getChild('error');
  const condition = error?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text')?.name ?? 'undefined-condition';
  return { condition, text: error?.getChildText('text', NS_STANZAS) ?? '' };
}

/** XEP-0077 in-band registration on its own short websocket stream, before the real login. */
function register(config: PageConfig): Promise<Account> {
  const account: Account = { domain: config.domain, username: `guest-${randomHex(6)}`, password: randomHex(16) };
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(config.websocket, 'xmpp');
    const timer = setTimeout(() => fail('no answer'), REGISTER_MS_MAX);
    function fail(why: string): void {
      clearTimeout(timer);
      ws.close();
      reject(new Error(`could not make a guest account: ${why}`));
    }
    ws.onerror = () => fail('the server cannot be reached');
    ws.onopen = () => ws.send(`<open xmlns="${NS_FRAMING}" to="${config.domain}" version="1.0"/>`);
    ws.onmessage = (event) => {
      const root = new DOMParser().parseFromString(String(event.data), 'text/xml').documentElement;
      if (root.localName === 'features') {
        if (root.getElementsByTagNameNS('http://jabber.org/features/iq-register', 'register').length === 0) return fail('this server does not offer it');
        ws.send(`<iq xmlns="jabber:client" type="set" id="register"><query xmlns="jabber:iq:register"><username>${account.username}</username><password>${account.password}</password></query></iq>`);
      } else if (root.localName === 'iq') {
        if (root.getAttribute('type') !== 'result') return fail(root.getElementsByTagNameNS(NS_STANZAS, 'text')[0]?.textContent ?? 'refused');
        clearTimeout(timer);
        ws.send(`<close xmlns="${NS_FRAMING}"/>`);
        ws.close();
        resolve(account);
      }
    };
  });
}

class Console {
  private readonly log: Log;
  private readonly history = new CommandHistory();
  private readonly status = byId<HTMLParagraphElement>('status');
  private readonly nickForm = byId<HTMLFormElement>('nick-form');
  private readonly nickInput = byId<HTMLInputElement>('nick');
  private readonly commandForm = byId<HTMLFormElement>('command-form');
  private readonly input = byId<HTMLInputElement>('command');
  private readonly room: string;
  private xmpp: XmppClient | null = null;
  private state: State = 'offline';
  private nick = '';
  /** Whether the player asked to play: a drop then reconnects and rejoins by itself. */
  private playing = false;
  /** Whether this join is the page's own (after a drop), not the player pressing Play. */
  private rejoining = false;
  /** Whether the world has taken us in since the player last pressed Play. */
  private hasJoined = false;
  private retries = 0;
  /** Rejoins refused in a row since the world last took us in. */
  private rejoinTries = 0;
  /** Message id -> the command it carried: Flux reflects each command to its sender (same id), which the log already shows. */
  private readonly sent = new Map<string, string>();
  private reconnectTimer: number | undefined;
  private joinTimer: number | undefined;
  private pingTimer: number | undefined;

  constructor(private readonly config: PageConfig) {
    this.log = new Log(config.logLines);
    this.room = `${config.world}@${config.mucDomain}`;
    byId('world').textContent = `Flux: ${config.world}`;
    document.title = `${config.world} - Flux`;
    this.nickInput.value = stored<string>(KEY.nick, '');
    this.nickForm.addEventListener('submit', (e) => this.onNick(e));
    this.commandForm.addEventListener('submit', (e) => this.onCommand(e));
    this.input.addEventListener('keydown', (e) => this.onKey(e));
    // The command line keeps focus: a click anywhere but on a control, or typing, comes back to it.
    document.addEventListener('click', () => this.refocus());
    document.addEventListener('keydown', (e) => {
      if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey && document.activeElement?.tagName !== 'INPUT') this.refocus();
    });
    this.nickInput.focus();
    void this.connect(); // before the name is picked: Play then joins at once
  }

  private refocus(): void {
    const selecting = (window.getSelection()?.toString() ?? '') !== '';
    if (selecting) return;
    if (!this.commandForm.hidden) this.input.focus();
    else if (!this.nickForm.hidden) this.nickInput.focus();
  }

  private setStatus(text: string, offline = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('offline', offline);
  }

  private onNick(event: Event): void {
    event.preventDefault();
    const nick = this.nickInput.value.trim();
    if (nick === '') return;
    this.nick = nick;
    this.playing = true;
    this.hasJoined = false;
    this.nickForm.hidden = true;
    if (this.state === 'online') void this.join();
    else if (this.state === 'offline') void this.connect();
  }

  private onCommand(event: Event): void {
    event.preventDefault();
    const command = this.input.value.trim();
    this.input.value = '';
    if (command !== '') this.command(command);
  }

  private command(command: string): void {
    this.history.add(command);
    this.log.line('cmd', command);
    if (this.state !== 'joined') {
      this.log.line('error', 'Not in the world right now: that was not sent. Wait for the status line to say you are back.');
      return;
    }
    const id = randomHex(8);
    this.sent.set(id, command);
    if (this.sent.size > SENT_COMMANDS_MAX) this.sent.delete(this.sent.keys().next().value!);
    void this.xmpp!.send(XMPP.xml('message', { type: 'groupchat', to: this.room, id }, XMPP.xml('body', {}, command)));
    this.input.focus();
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
    const recalled = this.history.step(event.key === 'ArrowUp' ? -1 : 1);
    if (recalled === null) return;
    event.preventDefault();
    this.input.value = recalled;
    this.input.setSelectionRange(recalled.length, recalled.length);
  }

  private async account(): Promise<Partial<Account>> {
    if (this.config.login === 'anonymous') return {};
    const known = stored<Account | null>(KEY.account, null);
    if (known !== null && known.domain === this.config.domain) return known;
    const made = await register(this.config);
    store(KEY.account, made);
    return made;
  }

  private async connect(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    this.state = 'connecting';
    this.setStatus(this.retries === 0 ? 'Connecting...' : `Reconnecting (attempt ${this.retries + 1})...`, this.retries > 0);
    try {
      const { username, password } = await this.account();
      const xmpp = XMPP.client({ service: this.config.websocket, domain: this.config.domain, resource: `web-${randomHex(3)}`,
        ...(username ? { username, password } : {}) });
      xmpp.reconnect.stop(); // this page reconnects itself, with a fresh client and a backoff
      xmpp.on('error', () => { /* the disconnect that follows says it */ });
      xmpp.on('stanza', (el) => this.onStanza(el));
      xmpp.on('disconnect', () => this.dropped(xmpp));
      this.xmpp = xmpp;
      await xmpp.start();
      if (this.xmpp !== xmpp) return;
      this.state = 'online';
      this.retries = 0;
      if (this.playing) await this.join(this.hasJoined);
      else this.setStatus('Connected. Pick a name and press Play.');
    } catch (err) {
      if (/not-authorized/.test(String(err))) store(KEY.account, null); // the account is gone (a fresh server): make another
      this.dropped(this.xmpp);
    }
  }

  /** The connection went away: say so, and try again after a growing pause. */
  private dropped(xmpp: XmppClient | null): void {
    if (xmpp !== this.xmpp || this.state === 'offline') return;
    this.xmpp = null;
    void xmpp?.stop().catch(() => undefined);
    clearInterval(this.pingTimer);
    if (this.state === 'joined') this.log.line('info', 'Connection lost. Reconnecting...');
    this.state = 'offline';
    const pauseMs = Math.min(RECONNECT_MS_MAX, RECONNECT_MS_MIN * 2 ** this.retries) * (0.75 + Math.random() / 2);
    this.retries++;
    this.setStatus(`Offline. Reconnecting in ${Math.ceil(pauseMs / 1000)} s...`, true);
    this.reconnectTimer = window.setTimeout(() => void this.connect(), pauseMs);
  }

  private async join(rejoining = false): Promise<void> {
    if (this.xmpp === null) return;
    this.state = 'joining';
    this.rejoining = rejoining;
    this.setStatus(`Joining ${this.config.world} as ${this.nick}...`);
    const xmpp = this.xmpp;
    clearTimeout(this.joinTimer);
    this.joinTimer = window.setTimeout(() => {
      if (this.state !== 'joining' || this.xmpp !== xmpp) return;
      this.setStatus(`No answer from ${this.config.world} yet. Retrying...`, true);
      this.rejoining = true;
      void this.join(true);
    }, JOIN_ANSWER_MS_MAX);
    await this.xmpp.send(XMPP.xml('presence', { to: `${this.room}/${this.nick}` },
      XMPP.xml('x', { xmlns: NS_MUC }, XMPP.xml('history', { maxstanzas: String(JOIN_HISTORY_STANZAS_MAX) }))));
  }

  private onStanza(el: XmlElement): void {
    const from = el.attrs.from ?? '';
    const [bare, nick = ''] = splitJid(from);
    if (bare !== this.room) return;
    if (el.is('presence')) this.onPresence(el, nick);
    else if (el.is('message')) this.onMessage(el, nick);
  }

  private onPresence(el: XmlElement, nick: string): void {
    const self = el.getChild('x', NS_MUC_USER)?.getChildren('status').some((s) => s.attrs.code === '110') ?? false;
    if (el.attrs.type === 'error') {
      if (this.state !== 'joining') return;
      const { condition, text } = stanzaError(el);
      this.state = 'online';
      if (this.rejoining && !FINAL_JOIN_ERRORS.has(condition) && ++this.rejoinTries <= REJOIN_TRIES_MAX) {
        this.setStatus(`${this.config.world} is not back yet (${condition}). Retrying...`, true);
        this.rejoinSoon(REJOIN_RETRY_MS);
        return;
      }
      this.log.line('error', joinErrorLine(condition, text, this.nick, this.config.world));
      this.playing = false;
      this.setStatus('Not in the world. Pick a name and press Play.', true);
      this.commandForm.hidden = true;
      this.nickForm.hidden = false;
      this.nickInput.select();
      this.nickInput.focus();
    } else if (self && el.attrs.type === 'unavailable') {
      const shutdown = el.getChild('x', NS_MUC_USER)?.getChildren('status').some((s) => s.attrs.code === '332') ?? false;
      this.log.line('info', shutdown ? 'The world is restarting. Rejoining...' : 'You left the world.');
      if (shutdown && this.state === 'joined') this.rejoinSoon();
    } else if (self) {
      this.joined(nick);
    }
  }

  private joined(nick: string): void {
    const first = this.state !== 'joined';
    this.state = 'joined';
    this.hasJoined = true;
    this.rejoinTries = 0;
    this.nick = nick;
    store(KEY.nick, nick);
    this.setStatus(`Online: ${nick} in ${this.config.world}.`);
    this.nickForm.hidden = true;
    this.commandForm.hidden = false;
    this.input.focus();
    if (!first) return;
    clearInterval(this.pingTimer);
    this.pingTimer = window.setInterval(() => void this.selfPing(), this.config.pingS * 1000);
  }

  private rejoinSoon(pauseMs = RECONNECT_MS_MIN): void {
    this.state = 'online';
    if (pauseMs === RECONNECT_MS_MIN) this.setStatus('Rejoining...', true);
    window.setTimeout(() => {
      if (this.state === 'online' && this.playing) void this.join(true);
    }, pauseMs);
  }

  /** XEP-0410: are we still in the room? A world restarted behind a live connection forgets us. */
  private async selfPing(): Promise<void> {
    if (this.state !== 'joined' || this.xmpp === null) return;
    const ping = XMPP.xml('iq', { type: 'get', to: `${this.room}/${this.nick}`, id: randomHex(6) }, XMPP.xml('ping', { xmlns: 'urn:xmpp:ping' }));
    try {
      await this.xmpp.iqCaller.request(ping, PING_REPLY_MS_MAX);
    } catch (err) {
      const condition = (err as { condition?: string }).condition ?? 'timeout';
      if (condition === 'service-unavailable' || condition === 'feature-not-implemented') return; // joined; pings not answered there
      if (this.state !== 'joined') return;
      this.log.line('info', 'Lost the world. Rejoining...');
      this.rejoinSoon();
    }
  }

  private onMessage(el: XmlElement, nick: string): void {
    if (el.attrs.type === 'error') {
      const { condition, text } = stanzaError(el);
      this.log.line('error', text || `Not taken: ${condition}.`);
      return;
    }
    const subject = el.getChildText('subject');
    const body = el.getChildText('body');
    if (subject !== null && body === null) {
      if (subject !== '') this.log.line('info', subject);
      return;
    }
    if (body === null) return;
    if (this.isReflection(el, nick, body)) return;
    const delayed = el.getChild('delay', 'urn:xmpp:delay') !== undefined ? ['history'] : [];
    if (el.attrs.type === 'chat') return this.speech('whisper', nick, body, delayed);
    if (nick !== '') return this.speech('say', nick, body, [...delayed, ...(nick === this.nick ? ['mine'] : [])]);
    const place = el.getChild('place', NS_PLACE);
    this.world(body, place);
  }

  /** Our own command coming back as it was typed (XEP-0045 §7.4): shown already as `> command`. A say comes back as speech, and stays. */
  private isReflection(el: XmlElement, nick: string, body: string): boolean {
    const id = el.attrs.id;
    if (nick !== this.nick || id === undefined || this.sent.get(id) !== body) return false;
    this.sent.delete(id);
    return true;
  }

  private speech(kind: 'say' | 'whisper', nick: string, body: string, extra: string[]): void {
    const div = document.createElement('div');
    div.className = [kind, ...extra].join(' ');
    const who = document.createElement('span');
    who.className = 'who';
    const action = body.startsWith('/me ');
    who.textContent = action ? `* ${nick}` : kind === 'whisper' ? `${nick} whispers:` : `${nick}:`;
    div.append(who, ` ${action ? body.slice(4) : body}`);
    this.log.add(div);
  }

  private world(body: string, place: XmlElement | undefined): void {
    if (place === undefined) {
      this.log.line('world', body);
      return;
    }
    const div = document.createElement('div');
    div.className = 'world description';
    const [title, ...rest] = body.split('\n');
    const heading = document.createElement('span');
    heading.className = 'title';
    heading.textContent = title ?? '';
    div.append(heading, `\n${rest.join('\n')}`);
    this.log.add(div);
    this.log.add(this.placeButtons(place));
  }

  /** Exits, things and people of a description as buttons: each sends one command. */
  private placeButtons(place: XmlElement): HTMLElement {
    const div = document.createElement('div');
    div.className = 'place';
    const group = (label: string, kind: string, entries: Array<[text: string, command: string]>) => {
      if (entries.length === 0) return;
      const span = document.createElement('span');
      span.textContent = label;
      div.append(span);
      for (const [text, command] of entries) {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = text;
        button.title = command;
        button.dataset.kind = kind;
        button.addEventListener('click', (e) => {
          e.stopPropagation();
          this.command(command);
        });
        div.append(button);
      }
    };
    const names = (parent: string, child: string, attr: string) => (place.getChild(parent)?.getChildren(child) ?? [])
      .map((c) => c.attrs[attr] ?? '').filter((n) => n !== '');
    group('Go:', 'exit', place.getChildren('exit').map((e) => e.attrs.dir ?? '').filter((d) => d !== '').map((d) => [d, d]));
    group('Things:', 'thing', names('things', 'thing', 'name').map((n) => [n, `look ${n}`]));
    group('People:', 'person', names('people', 'person', 'nick').map((n) => [n, `look ${n}`]));
    return div;
  }
}

/** room@domain/Nick -> [room@domain, Nick]; the nick may itself contain '/'. */
function splitJid(jid: string): [string, string] {
  const slash = jid.indexOf('/');
  return slash < 0 ? [jid, ''] : [jid.slice(0, slash), jid.slice(slash + 1)];
}

void loadConfig().then((config) => new Console(config));

// A module for the type checker; lib/web/build.ts ships it as one classic script in its own scope.
export {};
