// bin/flux load as an operator runs it: real clients through Prosody into a world,
// a report of commands/s and command -> effect latency at the end.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ROOT_DIR } from '../../lib/config/index.ts';
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
    const report = JSON.parse(json!) as { sent: number; answered: number; p99Ms: number; errors: number };
    expect(report.sent).to.be.at.least(20);
    expect(report.answered, 'the says came back').to.be.at.least(10);
    expect(report.errors).to.equal(0);
    const logged = await world.service.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM command_log, jsonb_array_elements(commands) c WHERE c->>'kind' = 'say' AND c->>'text' LIKE 'L%'");
    expect(logged.rows[0]!.n, 'the load went through the world and its log').to.be.at.least(report.answered);
  });

  it('refuses missing options with the usage and exit code 2', async function () {
    const err = await run(path.join(ROOT_DIR, 'bin/flux'), ['load', '--clients', '3']).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err?.code).to.equal(2);
    expect(err?.stderr).to.include('load needs --target');
  });
});
