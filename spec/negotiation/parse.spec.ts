// lib/negotiation/parse: what a player types -> a typed command or a reply (DESIGN §1).
import { expect } from 'chai';
import { closestCommand, editDistance, parseBody, type Parsed } from '../../lib/negotiation/index.ts';
import { DIRECTIONS } from '../../lib/engines/protocol.ts';

const NICK = 'Alice';

function command(body: string) {
  const parsed = parseBody(body, NICK);
  expect(parsed.ok, `${JSON.stringify(body)} should parse, got ${JSON.stringify(parsed)}`).to.equal(true);
  return (parsed as Extract<Parsed, { ok: true }>).command;
}

function reply(body: string): string {
  const parsed = parseBody(body, NICK);
  expect(parsed.ok, `${JSON.stringify(body)} should be refused, got ${JSON.stringify(parsed)}`).to.equal(false);
  return (parsed as Extract<Parsed, { ok: false }>).reply;
}

describe('negotiation parseBody', function () {
  it('reads look and its alias l, in any case and with spaces around', function () {
    for (const body of ['look', 'l', 'LOOK', '  Look  ', 'L']) {
      expect(command(body), body).to.deep.equal({ kind: 'look', nick: NICK });
    }
  });

  it('reads look <thing>, examine and x as examine, without an article', function () {
    for (const body of ['look dragon', 'examine dragon', 'x the dragon', 'X  a dragon ', 'l Dragon']) {
      expect(command(body).kind, body).to.equal('examine');
      expect(command(body).what?.toLowerCase(), body).to.equal('dragon');
    }
    expect(reply('examine')).to.equal('Examine what?');
  });

  it('reads take, get, drop with the thing named, keeping its words', function () {
    expect(command('take iron key')).to.deep.equal({ kind: 'take', nick: NICK, what: 'iron key' });
    expect(command('get the bell')).to.deep.equal({ kind: 'take', nick: NICK, what: 'bell' });
    expect(command('drop an apple')).to.deep.equal({ kind: 'drop', nick: NICK, what: 'apple' });
    expect(reply('take')).to.equal('Take what?');
    expect(reply('drop the')).to.equal('Drop what?');
  });

  it('reads give <thing> to <nick>, splitting at the last " to "', function () {
    expect(command('give bell to Sister Maren')).to.deep.equal({ kind: 'give', nick: NICK, what: 'bell', whom: 'Sister Maren' });
    expect(command('give the key to the tower to Bob')).to.deep.equal({ kind: 'give', nick: NICK, what: 'key to the tower', whom: 'Bob' });
    expect(reply('give bell')).to.match(/^Give what to whom/);
    expect(reply('give  to Bob')).to.match(/^Give what to whom/);
  });

  it('reads emote and its : alias, whisper with a plain or quoted nick, inventory and attack', function () {
    expect(command(':waves hello')).to.deep.equal({ kind: 'emote', nick: NICK, text: 'waves hello' });
    expect(command('emote grins')).to.deep.equal({ kind: 'emote', nick: NICK, text: 'grins' });
    expect(command('whisper Bob meet me at the gate')).to.deep.equal({ kind: 'whisper', nick: NICK, whom: 'Bob', text: 'meet me at the gate' });
    expect(command('whisper "Old Tom" hi there')).to.deep.equal({ kind: 'whisper', nick: NICK, whom: 'Old Tom', text: 'hi there' });
    expect(reply('whisper Bob')).to.match(/^Whisper what to whom/);
    for (const body of ['inventory', 'i', 'INV']) expect(command(body)).to.deep.equal({ kind: 'inventory', nick: NICK });
    for (const body of ['attack rat', 'kill rat', 'hit rat']) expect(command(body)).to.deep.equal({ kind: 'attack', nick: NICK, whom: 'rat' });
    expect(reply('attack')).to.equal('Attack whom?');
    expect(reply(':')).to.match(/^Do what/);
  });

  it('reads go <direction> for every direction and its one-letter alias', function () {
    DIRECTIONS.forEach((name, index) => {
      expect(command(`go ${name}`)).to.deep.equal({ kind: 'go', nick: NICK, direction: index });
      expect(command(`go ${name[0]}`)).to.deep.equal({ kind: 'go', nick: NICK, direction: index });
      expect(command(`GO ${name.toUpperCase()}`)).to.deep.equal({ kind: 'go', nick: NICK, direction: index });
    });
  });

  it('reads bare directions and n e s w u d as go', function () {
    const aliases = { n: 'north', e: 'east', s: 'south', w: 'west', u: 'up', d: 'down' } as const;
    for (const [alias, name] of Object.entries(aliases)) {
      const direction = DIRECTIONS.indexOf(name);
      expect(command(name)).to.deep.equal({ kind: 'go', nick: NICK, direction });
      expect(command(alias)).to.deep.equal({ kind: 'go', nick: NICK, direction });
      expect(command(alias.toUpperCase())).to.deep.equal({ kind: 'go', nick: NICK, direction });
      expect(command(`  ${name.toUpperCase()} `)).to.deep.equal({ kind: 'go', nick: NICK, direction });
    }
  });

  // Fails against lib/negotiation/parse.ts as of this spec: a direction followed by
  // more words falls through to the unknown-command reply, which then suggests the
  // very word the player typed ('I don't know how to "north". Did you mean north?').
  it('never claims a direction word is unknown when more words follow it', function () {
    for (const body of ['north please', 'n now', 'east quickly']) {
      const parsed = parseBody(body, NICK);
      if (parsed.ok) continue; // walking is a fine answer too
      const word = body.split(' ')[0]!;
      expect(parsed.reply, body).not.to.include(`I don't know how to "${word}"`);
    }
  });

  it('asks where to go when go has no direction, and names the directions for a wrong one', function () {
    expect(reply('go')).to.match(/go where/i);
    const r = reply('go sideways');
    expect(r).to.include('sideways');
    for (const name of DIRECTIONS) expect(r).to.include(name);
  });

  it("reads say <text> and '<text>, keeping the text's case and inner spacing", function () {
    expect(command('say Hello there')).to.deep.equal({ kind: 'say', nick: NICK, text: 'Hello there' });
    expect(command('SAY  Hi  You ')).to.deep.equal({ kind: 'say', nick: NICK, text: 'Hi  You' });
    expect(command("'Good morning!")).to.deep.equal({ kind: 'say', nick: NICK, text: 'Good morning!' });
    expect(command("' spaced ")).to.deep.equal({ kind: 'say', nick: NICK, text: 'spaced' });
    expect(command('say north')).to.deep.equal({ kind: 'say', nick: NICK, text: 'north' });
  });

  it('keeps line breaks inside a said text', function () {
    expect(command('say one\ntwo').text).to.equal('one\ntwo');
  });

  it("answers an empty say with 'Say what?'", function () {
    for (const body of ['say', 'say   ', "'", "'   ", 'SAY']) expect(reply(body), body).to.equal('Say what?');
  });

  it('reads who; answers help itself: every command in the list, or one command in detail', function () {
    expect(command('who')).to.deep.equal({ kind: 'who', nick: NICK });
    expect(command('WHO')).to.deep.equal({ kind: 'who', nick: NICK });
    const all = reply('help');
    for (const word of ['look', 'go', 'say', 'emote', 'whisper', 'who', 'inventory', 'take', 'drop', 'give', 'examine', 'attack', 'help']) {
      expect(all, word).to.match(new RegExp(`^  ${word}`, 'm'));
    }
    expect(reply('Help')).to.equal(all);
    expect(reply('help give')).to.match(/^give <thing> to <nick> - /);
    expect(reply('help n')).to.match(/^go <direction>/);
    expect(reply('help dance')).to.match(/^There is no command "dance"/);
  });

  it('puts the nick it was given on the command', function () {
    expect(parseBody('look', 'Bob')).to.deep.equal({ ok: true, command: { kind: 'look', nick: 'Bob' } });
  });

  it('answers an unknown command with the closest command and help', function () {
    const cases: [string, string][] = [['lok', 'look'], ['sya hi', 'say'], ['hepl', 'help'], ['wh', 'who'], ['nrth', 'north'], ['gp', 'go']];
    for (const [body, closest] of cases) {
      const r = reply(body);
      expect(r, body).to.include(body.split(' ')[0]);
      expect(r, body).to.include(`Did you mean ${closest}?`);
      expect(r, body).to.include('help');
    }
  });

  it('clips a very long unknown word in the reply', function () {
    const word = 'x'.repeat(500);
    const r = reply(word);
    expect(r.length).to.be.below(200);
    expect(r).to.include('help');
  });

  it('answers an empty or blank body with a hint, not a command', function () {
    for (const body of ['', '   ', '\n\t']) expect(reply(body)).to.match(/help/);
  });
});

describe('negotiation closestCommand', function () {
  it('returns the command itself for an exact word', function () {
    for (const word of ['look', 'go', 'say', 'who', 'help', ...DIRECTIONS]) expect(closestCommand(word)).to.equal(word);
  });

  it('finds the nearest full command word', function () {
    expect(closestCommand('lokk')).to.equal('look');
    expect(closestCommand('halp')).to.equal('help');
    expect(closestCommand('soth')).to.equal('south');
    expect(closestCommand('wset')).to.equal('west');
  });

  it('never suggests a one-letter alias', function () {
    for (const word of ['x', 'q', 'zz', 'n', 'ee']) expect(closestCommand(word).length).to.be.above(1);
  });
});

describe('negotiation editDistance', function () {
  it('counts insertions, deletions and substitutions', function () {
    expect(editDistance('', '')).to.equal(0);
    expect(editDistance('abc', '')).to.equal(3);
    expect(editDistance('', 'abc')).to.equal(3);
    expect(editDistance('look', 'look')).to.equal(0);
    expect(editDistance('look', 'lock')).to.equal(1);
    expect(editDistance('look', 'loo')).to.equal(1);
    expect(editDistance('kitten', 'sitting')).to.equal(3);
    expect(editDistance('flaw', 'lawn')).to.equal(2);
  });

  it('is symmetric', function () {
    const words = ['north', 'nroth', 'say', 'sya', '', 'help', 'whisper'];
    for (const a of words) for (const b of words) expect(editDistance(a, b), `${a}/${b}`).to.equal(editDistance(b, a));
  });
});

describe('negotiation parseBody: building commands', function () {
  const built = (body: string) => parseBody(body, NICK, { builder: true });
  it('reads each @ command with its direction, text, place or thing', function () {
    expect(built('@dig N  The   Old Tower')).to.deep.equal({ ok: true, command: { kind: 'dig', nick: NICK, direction: 0, text: 'The Old Tower' } });
    expect(built('@describe Wind.\nRain.')).to.deep.equal({ ok: true, command: { kind: 'describe', nick: NICK, text: 'Wind.\nRain.' } });
    expect(built('@exit east Market Row')).to.deep.equal({ ok: true, command: { kind: 'exit', nick: NICK, direction: 1, place: 'Market Row' } });
    expect(built('@lock down the lamp')).to.deep.equal({ ok: true, command: { kind: 'lock', nick: NICK, direction: 5, what: 'lamp' } });
    expect(built('@create a brass lamp')).to.deep.equal({ ok: true, command: { kind: 'create', nick: NICK, text: 'brass lamp' } });
    expect(built('@npc Hermit')).to.deep.equal({ ok: true, command: { kind: 'npc', nick: NICK, text: 'Hermit' } });
    expect(built('@undo')).to.deep.equal({ ok: true, command: { kind: 'undo', nick: NICK } });
  });
  it('refuses empty and over-long texts with the limit, and anyone not a builder with one sentence', function () {
    expect(built(`@describe ${'x'.repeat(1001)}`)).to.include({ ok: false });
    expect((built('@dig north') as { reply: string }).reply).to.match(/needs some words/);
    expect((built('@create !!!') as { reply: string }).reply).to.match(/a word to call it by/);
    expect((built('@frobnicate') as { reply: string }).reply).to.match(/help @/);
    expect(parseBody('@dig north Tower', NICK, { builder: false })).to.deep.equal({ ok: false, refused: true, reply: "Only this world's builders can do that." });
  });
});
