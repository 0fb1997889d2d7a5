// The session journal: a room's joined sessions are written to room_sessions as
// they come and go, so the next owner of the room serves the same occupants.
import { expect } from 'chai';
import { bodyOf, type Element } from '../support/player.ts';
import { createTestDatabase, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { describeOnPostgres } from '../support/postgres.ts';
import { until } from '../support/until.ts';
import { SESSION_JOURNAL_MS } from '../../lib/constants.ts';

describeOnPostgres('cluster session journal (room_sessions)', function () {
  let db: TestDatabase;
  let world: World;
  before(async function () {
    db = await createTestDatabase('postgresql');
    world = await startWorld(db);
  });
  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  const rows = async () => (await world.service.db.query<{ session_jid: string; nick: string }>(
    "SELECT session_jid, nick FROM room_sessions WHERE room_id = 'realm' ORDER BY session_jid")).rows;

  it('writes each joined session with its nick, a second session too, and forgets them as they leave', async function () {
    const ann = await world.player('ann', 'phone');
    const ann2 = await world.player('ann', 'laptop');
    await ann.join(world.roomJid, 'Ann');
    await until(async () => (await rows()).length === 1, 5 * SESSION_JOURNAL_MS + 2000);
    expect(await rows()).to.deep.equal([{ session_jid: ann.jid, nick: 'Ann' }]);
    await ann2.join(world.roomJid, 'Ann');
    await until(async () => (await rows()).length === 2, 5 * SESSION_JOURNAL_MS + 2000);
    await ann.send((await import('../support/player.ts')).xml('presence', { to: `${world.roomJid}/Ann`, type: 'unavailable' }));
    await until(async () => (await rows()).length === 1, 5 * SESSION_JOURNAL_MS + 2000);
    expect(await rows()).to.deep.equal([{ session_jid: ann2.jid, nick: 'Ann' }]);
    const fromRoom = (el: Element) => el.attrs.from === world.roomJid && /^Town Square/.test(bodyOf(el) ?? '');
    ann2.say(world.roomJid, 'look');
    await ann2.waitFor(fromRoom);
  });
});
