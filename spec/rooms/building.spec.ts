// Building in a running room, end to end without XMPP on an embedded
// database: the gate, what builders and bystanders read, the rows each command
// writes, a restart that loads the grown world, replay of a log with building in
// wasm, js and model, and `world export` of the grown world imported elsewhere.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { openDb, migrate, type Db } from '../../lib/db/index.ts';
import { exportWorld, installWorld, installWorlds, parseWorld, worldToYaml } from '../../lib/world/index.ts';
import { loadRoom } from '../../lib/contextualization/index.ts';
import { compileKernel, KernelEngine, ModelEngine, NOWHERE, portableKernel } from '../../lib/engines/index.ts';
import { Room, replayRoom } from '../../lib/rooms/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import type { Message } from '../../lib/effects/index.ts';
import { BUILD_HELP, HELP_TEXT, NOT_A_BUILDER, parseBody, type Submission } from '../../lib/negotiation/index.ts';

const log = pino({ level: 'silent' });
const ANN = 'ann@example.org';
const BEN = 'ben@example.org';

describe('building in a room (lib/rooms) on the embedded database', function () {
  this.timeout(120000);
  let dir: string;
  let db: Db;
  let room: Room;
  const delivered: Message[] = [];
  const refused: { batch: readonly Submission[]; reason: string }[] = [];
  const transcript: string[] = [];

  function open(loaded: NonNullable<Awaited<ReturnType<typeof loadRoom>>>) {
    return new Room({
      db, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, 16), tickMs: 5, batchMax: 16, npcTickMs: 0,
      deliver: (_r, { messages }) => delivered.push(...messages),
      refuse: (_r, batch, reason) => refused.push({ batch, reason }),
      isBuilder: (jid) => jid === ANN,
    });
  }

  /** Types a line as `nick` (parsed as the edge does, with the builder role), runs it, and returns what `nick` read. */
  async function type(nick: string, jid: string, body: string): Promise<string[]> {
    const id = room.character(nick)!.id;
    const parsed = parseBody(body, nick, { builder: room.isBuilder(jid) });
    const [seen, told] = [delivered.length, refused.length];
    if (parsed.ok) {
      room.submit({ command: parsed.command, origin: { from: `${jid}/x` } });
      await room.drain();
    }
    const read = parsed.ok
      ? [...delivered.slice(seen).filter((m) => m.to === id).map((m) => m.body), ...refused.slice(told).map((r) => r.reason)]
      : [parsed.reply];
    transcript.push(`${nick}> ${body}`, ...read.map((line) => line.replace(/^/gm, '  ')));
    return read;
  }

  const rows = async (sql: string) => (await db.query<Record<string, unknown>>(sql)).rows;

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flux-building-'));
    db = await openDb({ databaseUrl: '', dataDir: dir, log });
    await migrate(db);
    await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
    room = open((await loadRoom(db, 'realm'))!);
    room.submit({ command: { kind: 'join', nick: 'Ann', jid: ANN } });
    room.submit({ command: { kind: 'join', nick: 'Ben', jid: BEN } });
    await room.drain();
  });

  after(async function () {
    if (process.env.FLUX_SHOW_TRANSCRIPT) console.log(transcript.join('\n'));
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a non-builder is told exactly that, at the edge and at the room\'s gate, and nothing is run or logged', async function () {
    const built = async () => (await rows("SELECT count(*)::int AS n FROM command_log, jsonb_array_elements(commands) c WHERE room_id = 'realm' AND c->>'kind' = 'dig'"))[0]!.n;
    expect(await type('Ben', BEN, '@dig up The Old Tower')).to.deep.equal([NOT_A_BUILDER]);
    // The gate holds even when the edge did not ask (no role given to the parser).
    const parsed = parseBody('@dig up The Old Tower', 'Ben');
    expect(parsed.ok).to.equal(true);
    room.submit({ command: (parsed as { command: Submission['command'] }).command, origin: { from: `${BEN}/x` } });
    await room.drain();
    expect(refused.at(-1)!.reason).to.equal(NOT_A_BUILDER);
    expect(await built(), 'no dig in the command log').to.equal(0);
    expect(room.world.locationCount, 'nothing was dug').to.equal((await loadRoom(db, 'realm'))!.world.locationCount);
  });

  it('help @ lists the building commands to builders only', async function () {
    expect(await type('Ann', ANN, 'help @')).to.deep.equal([BUILD_HELP]);
    expect(await type('Ben', BEN, 'help @')).to.deep.equal([NOT_A_BUILDER]);
    expect(await type('Ben', BEN, 'help')).to.deep.equal([HELP_TEXT]);
  });

  it('over-long and empty texts are refused with the limit', async function () {
    expect((await type('Ann', ANN, `@title ${'x'.repeat(81)}`))[0]).to.equal("A place's title may be at most 80 characters; that one has 81.");
    expect((await type('Ann', ANN, '@create'))[0]).to.match(/^A thing's name needs some words/);
    expect((await type('Ann', ANN, '@dig sideways Somewhere'))[0]).to.match(/^Which way\?/);
  });

  it('@dig, @describe, @title, @exit, @create, @lock, @npc, @destroy, @unexit: each is told, seen, and written', async function () {
    const ben = room.character('Ben')!.id;
    const benSees = () => delivered.filter((m) => m.to === ben).map((m) => m.body);
    expect(await type('Ann', ANN, '@dig up The Old Tower')).to.deep.equal(['You dig a way up to The Old Tower; its way back leads down.']);
    expect(benSees().at(-1)).to.equal('Ann digs a way up.');
    expect(await type('Ann', ANN, '@dig up Another')).to.deep.equal(['There is a way up from here already; @unexit up first.']);
    expect((await type('Ann', ANN, 'up'))[0]).to.equal('The Old Tower\nNobody has described this place yet.\nExits: down');
    await type('Ann', ANN, '@describe Wind whistles through the broken slates.');
    expect(await type('Ann', ANN, '@title The Tall Tower')).to.deep.equal(['This place is now called The Tall Tower.']);
    expect(await type('Ann', ANN, '@exit east Market Row')).to.deep.equal(['You open a way east to Market Row.']);
    expect(await type('Ann', ANN, '@exit west nowhere-at-all')).to.deep.equal(['There is no place by that name in this world: name it by its key or its title.']);
    expect(await type('Ann', ANN, '@create a brass lamp')).to.deep.equal(['You make the brass lamp.']);
    expect(await type('Ann', ANN, '@lock down lamp')).to.deep.equal(['You lock the way down: only someone carrying the brass lamp may pass.']);
    expect(await type('Ann', ANN, '@destroy lamp')).to.deep.equal(['The brass lamp is needed: it opens a way (@unexit that way first) or a creature is waiting for it.']);
    expect(await type('Ann', ANN, '@npc Hermit')).to.deep.equal(['You bring Hermit to life.']);
    expect(await type('Ann', ANN, '@npc Ben')).to.deep.equal(['Someone here is called Ben already; a creature needs a name of its own.']);
    await type('Ann', ANN, '@create rusty nail');
    expect(await type('Ann', ANN, '@destroy nail')).to.deep.equal(['You destroy the rusty nail.']);
    expect(await type('Ann', ANN, '@unexit east')).to.deep.equal(['You close the way east.']);
    const view = (await type('Ann', ANN, 'look'))[0]!;
    expect(view).to.equal('The Tall Tower\nWind whistles through the broken slates.\nYou see: brass lamp.\nAlso here: Hermit\nExits: down');
    expect((await type('Ann', ANN, 'x hermit'))[0]).to.equal('Nobody has described it yet.\nHealth: 5/5.');

    const tower = room.world.locationCount - 1;
    expect(await rows(`SELECT key, title, description FROM locations WHERE room_id = 'realm' AND idx = ${tower}`)).to.deep.equal([
      { key: 'the-old-tower', title: 'The Tall Tower', description: 'Wind whistles through the broken slates.' }]);
    expect(await rows(`SELECT from_idx, direction, to_idx, key_item FROM exits WHERE room_id = 'realm' AND (from_idx = ${tower} OR to_idx = ${tower}) ORDER BY from_idx`)).to.deep.equal([
      { from_idx: 0, direction: 4, to_idx: tower, key_item: null }, { from_idx: tower, direction: 5, to_idx: 0, key_item: room.world.items.length - 2 }]);
    expect(await rows("SELECT key, name, keywords, weight, home, place FROM items WHERE room_id = 'realm' AND key IN ('brass-lamp', 'rusty-nail') ORDER BY idx")).to.deep.equal([
      { key: 'brass-lamp', name: 'brass lamp', keywords: ['brass', 'lamp'], weight: 1, home: tower, place: tower },
      { key: 'rusty-nail', name: 'rusty nail', keywords: ['rusty', 'nail'], weight: 1, home: tower, place: NOWHERE }]);
    expect(await rows("SELECT n.key, n.hp, n.home, c.nick, c.jid, c.location, c.present FROM npcs n JOIN characters c USING (room_id, id) WHERE n.room_id = 'realm' AND n.key = 'hermit'")).to.deep.equal([
      { key: 'hermit', hp: 5, home: tower, nick: 'Hermit', jid: '', location: tower, present: true }]);
  });

  it('a restart loads the grown world, and players keep playing in it', async function () {
    room = open((await loadRoom(db, 'realm'))!);
    expect((await type('Ann', ANN, 'look'))[0]).to.match(/^The Tall Tower\n.*\nYou see: brass lamp\.\nAlso here: Hermit\nExits: down$/s);
    await type('Ann', ANN, 'take lamp');
    expect((await type('Ann', ANN, 'down'))[0]).to.match(/^Town Square/);
    expect(await type('Ben', BEN, 'up')).to.deep.equal(['The Tall Tower\nWind whistles through the broken slates.\nAlso here: Hermit\nExits: down']);
  });

  it('@undo takes back the builder\'s last steps, and they survive a restart (undo, restart, undo again)', async function () {
    expect((await type('Ann', ANN, 'look'))[0]).to.match(/^Town Square\n/);
    expect(await type('Ann', ANN, '@title Cup Square')).to.deep.equal(['This place is now called Cup Square.']);
    expect(await type('Ann', ANN, '@create a tin cup')).to.deep.equal(['You make the tin cup.']);
    expect(await type('Ann', ANN, '@undo')).to.deep.equal(['You undo @create.']);
    expect((await type('Ann', ANN, 'look'))[0]).to.not.match(/tin cup/);
    expect(await rows("SELECT text FROM undo_texts WHERE room_id = 'realm' ORDER BY slot DESC LIMIT 1")).to.deep.equal([{ text: 'Town Square' }]);
    room = open((await loadRoom(db, 'realm'))!);
    expect(await type('Ann', ANN, '@undo')).to.deep.equal(['You undo @title.']);
    expect((await type('Ann', ANN, 'look'))[0]).to.match(/^Town Square\n/);
    expect((await rows("SELECT title FROM locations WHERE room_id = 'realm' AND idx = 0"))[0]).to.deep.equal({ title: 'Town Square' });
    // Older steps are still kept: the way east from the tower comes back, for Ben who stands there.
    expect(await type('Ann', ANN, '@undo')).to.deep.equal(['You undo @unexit.']);
    expect((await type('Ben', BEN, 'look'))[0]).to.match(/Exits: east, down$/);
    expect(await type('Ben', BEN, '@undo')).to.deep.equal([NOT_A_BUILDER]);
  });

  for (const [name, make] of [
    ['wasm', (map: Parameters<typeof KernelEngine.wasm>[1]) => KernelEngine.wasm(compileKernel(), map, 16)],
    ['js', (map: Parameters<typeof KernelEngine.wasm>[1]) => KernelEngine.js(portableKernel(), map, 16)],
    ['model', (map: Parameters<typeof KernelEngine.wasm>[1]) => new ModelEngine(map)],
  ] as const) {
    it(`replay from the world as installed rebuilds the grown world and the stored state (${name})`, async function () {
      const r = (await replayRoom(db, 'realm', make, log))!;
      expect(r.divergence).to.equal(null);
      expect(r.commands).to.be.above(20);
    });
  }

  it('world export writes the grown world; importing it elsewhere gives the same world', async function () {
    const grown = (await exportWorld(db, 'realm'))!;
    expect(grown.locations.map((l) => l.key)).to.include('the-old-tower');
    expect(grown.items.map((i) => i.key)).to.include('brass-lamp').and.not.include('rusty-nail');
    expect(grown.npcs.map((n) => n.key)).to.include('hermit');
    const yaml = worldToYaml(grown);
    const elsewhereDir = mkdtempSync(path.join(os.tmpdir(), 'flux-building-import-'));
    const elsewhere = await openDb({ databaseUrl: '', dataDir: elsewhereDir, log });
    try {
      await migrate(elsewhere);
      expect(await installWorld(elsewhere, parseWorld(yaml, 'grown.yaml'))).to.equal(true);
      expect(await exportWorld(elsewhere, 'realm')).to.deep.equal(grown);
      const there = (await loadRoom(elsewhere, 'realm'))!;
      expect(there.world.locations.find((l) => l.key === 'the-old-tower')!.title).to.equal('The Tall Tower');
    } finally {
      await elsewhere.close();
      rmSync(elsewhereDir, { recursive: true, force: true });
    }
  });
});
