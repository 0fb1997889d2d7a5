// A second, independent XMPP client plays: slixmpp (Python, spec/support/slixmpp_player.py)
// joins beside an xmpp.js player, types commands and reports what it received as JSON lines.
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { bodyOf, xml, type Player } from '../support/player.ts';
import { createTestDatabase, SERVER_KINDS, SERVER_NAMES, startWorld, type TestDatabase, type World } from '../support/flux.ts';

/** Debian's python3-slixmpp installs for the system Python, not for a pyenv or venv one. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../support/slixmpp_player.py', import.meta.url));
/** Bound on the whole slixmpp run: login, join, three commands, a whisper, leave. */
const RUN_MS_MAX = 45000;
const PASSWORD = 'slix-password';
const WHISPER = 'psst, the chapel bell is missing';

interface SlixEvent {
  event: string;
  from?: string;
  type?: string;
  codes?: number[];
  role?: string;
  body?: string;
  id?: string;
  subject?: string;
  message?: string;
}

interface SlixRun {
  code: number | null;
  events: SlixEvent[];
  stderr: string;
}

function requireSlixmpp(): void {
  try {
    execFileSync(PYTHON, ['-c', 'import slixmpp'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${PYTHON} cannot import slixmpp: apt-get install python3-slixmpp`);
  }
}

/** Runs the slixmpp player to its end (killed after RUN_MS_MAX); every stdout line is one JSON event. */
function runSlixmpp(args: string[]): Promise<SlixRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS_MAX);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((l) => l.trim() !== '');
      resolve({ code, events: lines.map((l) => JSON.parse(l) as SlixEvent), stderr });
    });
  });
}

for (const server of SERVER_KINDS) describe(`a second client, slixmpp, playing through ${SERVER_NAMES[server]} (embedded database)`, function () {
  let db: TestDatabase;
  let world: World;
  let alice: Player;
  let run: SlixRun;
  let room: string;
  const slix = () => `${room}/Slix`;
  const following = (e: SlixEvent) => run.events.slice(run.events.indexOf(e) + 1);
  const sent = (body: string) => run.events.find((e) => e.event === 'sent' && e.body === body)!;
  const roomText = (events: SlixEvent[]) => events.find((e) => e.event === 'groupchat' && e.from === room)?.body ?? '';

  before(async function () {
    requireSlixmpp();
    db = await createTestDatabase('embedded');
    world = await startWorld(db, {}, server);
    room = world.roomJid;
    alice = await world.player('alice');
    await alice.join(room, 'Alice');
    await world.xmpp.registerUser('slix', PASSWORD);
    alice.mark();
    const playing = runSlixmpp([
      '--jid', `slix@${world.xmpp.host}`, '--password', PASSWORD,
      '--host', '127.0.0.1', '--port', String(world.xmpp.c2sPort),
      '--room', room, '--nick', 'Slix', '--expect-private', '1',
      'look', 'say hello from slixmpp', 'who',
    ]);
    // As soon as Slix's presence shows, Alice whispers to it: a MUC private message to room/Nick.
    // The presence comes before the join commits, so the whisper may share a batch with it.
    const whispered = alice.waitFor((el) => el.name === 'presence' && el.attrs.from === slix() && el.attrs.type === undefined, 20000)
      .then(() => alice.send(xml('message', { to: slix(), type: 'chat' }, xml('body', {}, WHISPER))))
      .then(() => null, (err: Error) => err);
    run = await playing; // even when the whisper failed: no slixmpp process outlives the spec
    const whisperError = await whispered;
    if (whisperError !== null) throw whisperError;
    const errors = run.events.filter((e) => e.event === 'error');
    if (run.code !== 0 || errors.length > 0) {
      throw new Error(`slixmpp player exited ${run.code}: ${JSON.stringify(errors)}\n${run.stderr.slice(-2000)}`);
    }
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  it('joins in XEP-0045 order: Alice present, self-presence with 110, the subject, then where it stands', function () {
    const presences = run.events.filter((e) => e.event === 'presence');
    const self = presences.find((e) => e.from === slix() && e.codes?.includes(110) && e.type !== 'unavailable');
    expect(self, JSON.stringify(presences)).to.include({ role: 'participant' });
    const alicePresence = presences.find((e) => e.from === `${room}/Alice`);
    expect(alicePresence).to.include({ role: 'participant' });
    expect(run.events.indexOf(alicePresence!)).to.be.lessThan(run.events.indexOf(self!));
    expect(following(self!).find((e) => e.event === 'subject')?.subject).to.match(/Welcome/);
    const arrival = roomText(following(run.events.find((e) => e.event === 'joined')!)).split('\n');
    expect(arrival[0]).to.equal('Town Square');
    expect(arrival[arrival.length - 1]).to.equal('Exits: north, east, south, west');
  });

  it('answers look with the starting place, after reflecting the command with its id', function () {
    const look = sent('look');
    const reflection = following(look).find((e) => e.event === 'groupchat' && e.id === look.id);
    expect(reflection).to.include({ from: slix(), body: 'look' });
    const description = roomText(following(look));
    expect(description.split('\n')[0]).to.equal('Town Square');
    expect(description).to.match(/^Also here: .*\bAlice\b/m);
  });

  it("carries Slix's say to Alice, and echoes it to Slix with the id it sent", async function () {
    const heard = await alice.waitFor((el) => el.attrs.from === slix() && bodyOf(el) === 'hello from slixmpp');
    expect(heard.attrs.type).to.equal('groupchat');
    const say = sent('say hello from slixmpp');
    expect(following(say).find((e) => e.id === say.id)).to.include({ event: 'groupchat', from: slix(), body: 'hello from slixmpp' });
  });

  it('lists both players with who', function () {
    const who = roomText(following(sent('who')));
    expect(who).to.match(/^Players in/).and.to.contain('Alice - Town Square').and.to.contain('Slix - Town Square');
  });

  it("delivers Alice's whisper to Slix as a MUC private message from room/Alice", function () {
    const whisper = run.events.find((e) => e.event === 'private');
    expect(whisper).to.deep.equal({ event: 'private', from: `${room}/Alice`, body: WHISPER });
  });

  it('leaves cleanly: Slix gets its unavailable self-presence and Alice sees Slix go', async function () {
    const gone = run.events.find((e) => e.event === 'presence' && e.from === slix() && e.type === 'unavailable');
    expect(gone?.codes).to.include(110);
    expect(run.events.slice(-2).map((e) => e.event)).to.deep.equal(['left', 'disconnected']);
    await alice.waitFor((el) => el.name === 'presence' && el.attrs.from === slix() && el.attrs.type === 'unavailable');
  });
});
