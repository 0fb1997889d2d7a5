// bin/flux load as an operator runs it: real clients through Prosody into a world,
// a report of commands/s and command -> effect latency at the end; and how the
// load generator (lib/load) tells each command's own answer from the rest.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { classifyRoomLine, commandFor, tokenSeq } from '../../lib/load/index.ts';
import { createTestDatabase, startWorld, type TestDatabase, type World } from '../support/flux.ts';

const run = promisify(execFile);

describe('bin/flux load', function () {
  let db: TestDatabase;
  let world: World;

  before(async function () {
    db = await createTestDatabase('embedded');
    world = await startWorld(db);
    for (let i = 0; i < 3; i++) await world.xmpp.registerUser(`load${i}`, 'load-pw');
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  it('drives a world with real clients and reports throughput and latency', async function () {
    const { stdout } = await run(path.join(ROOT_DIR, 'bin/flux'), [
      'load', '--target', world.roomJid, '--service', `xmpp://127.0.0.1:${world.xmpp.c2sPort}`, '--domain', world.xmpp.host,
      '--clients', '3', '--rate', '4', '--seconds', '2', '--accounts', 'load:load-pw',
    ], { timeout: 60_000 });
    const [summary, json] = stdout.trim().split('\n');
    expect(summary).to.match(/^3 clients, 2 s: \d+ commands\/s sent, \d+ answers measured, latency p50 [\d.]+ ms, p99 [\d.]+ ms/);
    const report = JSON.parse(json!) as { sent: number; answered: number; p99Ms: number; errors: number; kinds: Record<string, { sent: number; answered: number }> };
    expect(report.sent).to.be.at.least(20);
    expect(report.answered, 'every command was answered').to.equal(report.sent);
    expect(report.kinds.look!.answered, 'looks are matched to their descriptions too').to.equal(report.kinds.look!.sent);
    expect(report.errors).to.equal(0);
    const logged = await world.service.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM command_log, jsonb_array_elements(commands) c WHERE c->>'kind' = 'say' AND c->>'text' LIKE 'L%'");
    expect(logged.rows[0]!.n, 'the load went through the world and its log').to.be.at.least(report.kinds.say!.answered);
  });

  it('refuses missing options with the usage and exit code 2', async function () {
    const err = await run(path.join(ROOT_DIR, 'bin/flux'), ['load', '--clients', '3']).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err?.code).to.equal(2);
    expect(err?.stderr).to.include('load needs --target');
  });
});

describe('lib/load: which line answers which command', function () {
  it('matches a say, an emote, a plain MUC body and an echo by the token of its own client only', function () {
    expect(tokenSeq('L7-42', 7)).to.equal(42);
    expect(tokenSeq('/me waves L7-42', 7)).to.equal(42);
    expect(tokenSeq('L17-42', 7), 'another client\'s say, heard in the room').to.equal(null);
    expect(commandFor('says', 3, 9, true).body, 'a MUC gets the bare token').to.equal('L3-9');
    expect(commandFor('says', 3, 9, false).body).to.equal('say L3-9');
  });

  it('takes the actor\'s own view from the room as an answer, and others\' news or a refusal as none', function () {
    expect(classifyRoomLine('Town Square\nCobblestones.\nAlso here: Bob\nExits: north, east')).to.equal('answer');
    expect(classifyRoomLine("You can't go up from here.")).to.equal('answer');
    expect(classifyRoomLine('You take the torn handbill.')).to.equal('answer');
    expect(classifyRoomLine("You don't see that here.")).to.equal('answer');
    expect(classifyRoomLine('The way north is locked. You need to carry its key.')).to.equal('answer');
    expect(classifyRoomLine('Bob arrives from the north.')).to.equal('news');
    expect(classifyRoomLine('Bob takes the torn handbill.')).to.equal('news');
    expect(classifyRoomLine('You wake up in Town Square, whole again.'), 'a respawn answers nothing').to.equal('news');
    expect(classifyRoomLine('The world is very busy right now; try that again in a moment.')).to.equal('refusal');
  });

  it('types the game mix: every kind, says the most', function () {
    const kinds = new Map<string, number>();
    for (let seq = 1; seq <= 200; seq++) {
      const c = commandFor('game', seq % 7, seq, false);
      kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    }
    expect([...kinds.keys()].sort()).to.deep.equal(['drop', 'emote', 'look', 'move', 'say', 'take']);
    expect(kinds.get('say')).to.equal(Math.max(...kinds.values()));
  });
});
