// The starter world's quest, finished by a scripted client the way a new player
// would: find the key, pass the locked trapdoor, fetch the bell, bring it to
// Sister Maren. NPCs wander meanwhile (a fast world tick), and afterwards the
// command log replays, in every engine, to exactly the state the database holds.
import { expect } from 'chai';
import { bodyOf, type Element, type Player } from '../support/player.ts';
import { createTestDatabase, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { replayInEveryEngine } from '../support/replay.ts';

describe('the starter quest, played by a scripted client (embedded database, NPCs wandering)', function () {
  let db: TestDatabase;
  let world: World;
  let kim: Player;
  const fromRoom = (re: RegExp) => (el: Element) => el.name === 'message' && el.attrs.from === world.roomJid && re.test(bodyOf(el) ?? '');
  const act = async (command: string, re: RegExp) => {
    kim.mark();
    kim.say(world.roomJid, command);
    return bodyOf(await kim.waitFor(fromRoom(re)))!;
  };

  before(async function () {
    db = await createTestDatabase('embedded');
    world = await startWorld(db, { FLUX_NPC_TICK_MS: '150' });
    kim = await world.player('kim');
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  it('is finished in a handful of commands: key, locked trapdoor, bell, Sister Maren', async function () {
    const started = Date.now();
    await kim.join(world.roomJid, 'Kim');
    expect(bodyOf(await kim.waitFor(fromRoom(/^Town Square/)))).to.match(/^You see: .*torn handbill/m);
    await act('w', /^The Leaning Lantern/);
    expect(await act('d', /locked/)).to.match(/^The way down is locked/);
    await act('e', /^Town Square/);
    await act('e', /^Market Row/);
    await act('u', /^Clock Tower/);
    expect(await act('take key', /take/)).to.equal('You take the iron key.');
    await act('d', /^Market Row/);
    await act('w', /^Town Square/);
    await act('w', /^The Leaning Lantern/);
    await act('d', /^Tavern Cellar/);
    await act('e', /^Smugglers' Hole/);
    expect(await act('take bell', /take/)).to.equal('You take the tide bell.');
    await act('w', /^Tavern Cellar/);
    await act('u', /^The Leaning Lantern/);
    await act('e', /^Town Square/);
    await act('s', /^Chapel of the Tide/);
    expect(await act('give bell to sister', /Sister Maren/)).to.equal([
      'You give the tide bell to Sister Maren.',
      'Sister Maren says: "The Tide Bell! I had begun to think the sea had taken it back. Bless you, and may every tide you meet turn in your favour."',
      'Quest complete!',
    ].join('\n'));
    expect(Date.now() - started, 'well inside 15 minutes').to.be.below(60_000);
    const row = await world.service.db.query<{ quest: boolean }>("SELECT quest FROM characters WHERE nick = 'Kim'");
    expect(row.rows).to.deep.equal([{ quest: true }]);
    const bell = await world.service.db.query<{ key: string }>(
      "SELECT l.key FROM items i JOIN locations l ON l.room_id = i.room_id AND l.idx = i.place WHERE i.key = 'tide-bell'");
    expect(bell.rows, 'the bell goes back for the next player').to.deep.equal([{ key: 'smugglers-den' }]);
    expect(await act('give key to maren', /want/)).to.equal("Sister Maren doesn't want the iron key.");
  });

  it('lets NPCs wander on the world tick, and players see them come and go', async function () {
    kim.mark();
    await kim.waitFor((el) => /^The (stray dog|giant rat|grey wolf) (leaves|arrives)/.test(bodyOf(el) ?? '') || false, 30_000)
      .catch(async () => {
        // Nobody came by the chapel: the tick still moved them, as the database shows.
        const moved = await world.service.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM characters c JOIN npcs n ON n.room_id = c.room_id AND n.id = c.id WHERE n.wander AND c.location <> n.home');
        expect(moved.rows[0]!.n).to.be.above(0);
      });
    const ticks = await world.service.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM command_log, jsonb_array_elements(commands) c WHERE c->>'kind' = 'tick'");
    expect(ticks.rows[0]!.n, 'world ticks are logged commands').to.be.above(0);
  });

  it('replays its command log, in each engine, to exactly the state the database holds', async function () {
    for (const [name, r] of await replayInEveryEngine(world, 'realm')) {
      expect(r.divergence, name).to.equal(null);
      expect(r.version, name).to.be.above(20);
      expect(r.replayed.characters.find((c) => c.nick === 'Kim')?.quest, name).to.equal(true);
    }
  });
});
