// lib/xmpp/history.ts: the lines a join gets (XEP-0045 §7.2.15), per location,
// within every bound the join asked for.
import { expect } from 'chai';
import { xml } from '../../lib/xmpp/stanzas.ts';
import { History, historyRequest } from '../../lib/xmpp/history.ts';
import { HISTORY_LINES_DEFAULT, HISTORY_LINES_PER_LOCATION_MAX } from '../../lib/constants.ts';

const SQUARE = 0;
const GATE = 1;
const size = (l: { body: string }) => l.body.length;

function historyWith(lines: number, where = SQUARE, everyMs = 1000): History {
  const h = new History();
  for (let i = 0; i < lines; i++) h.record([{ where, speaker: 'Ann', body: `line ${i}` }], i * everyMs);
  return h;
}

const join = (attrs?: Record<string, string>) => xml('presence', { to: 'realm@game.localhost/Ben' },
  xml('x', { xmlns: 'http://jabber.org/protocol/muc' }, ...(attrs ? [xml('history', attrs)] : [])));

describe('xmpp History', function () {
  it('gives the last HISTORY_LINES_DEFAULT lines, oldest first, when the join asks nothing', function () {
    const lines = historyWith(30).recent(SQUARE, historyRequest(join()), 30_000, size);
    expect(lines).to.have.length(HISTORY_LINES_DEFAULT);
    expect(lines[0]!.body).to.equal('line 10');
    expect(lines.at(-1)!.body).to.equal('line 29');
  });

  it('keeps each place to itself and at most HISTORY_LINES_PER_LOCATION_MAX lines', function () {
    const h = historyWith(HISTORY_LINES_PER_LOCATION_MAX + 10);
    h.record([{ where: GATE, speaker: 'Cy', body: 'at the gate' }], 0);
    const all = h.recent(SQUARE, { maxStanzas: 1000 }, 0, size);
    expect(all).to.have.length(HISTORY_LINES_PER_LOCATION_MAX);
    expect(all[0]!.body).to.equal('line 10');
    expect(h.recent(GATE, {}, 0, size).map((l) => l.body)).to.deep.equal(['at the gate']);
  });

  it('honours maxstanzas, maxchars, seconds and since, each alone and together', function () {
    const h = historyWith(10); // line i said at i seconds
    const at = 10_000;
    const bodies = (r: ReturnType<typeof historyRequest>) => h.recent(SQUARE, r, at, size).map((l) => l.body);
    expect(bodies(historyRequest(join({ maxstanzas: '3' })))).to.deep.equal(['line 7', 'line 8', 'line 9']);
    expect(bodies(historyRequest(join({ maxchars: '12' })))).to.deep.equal(['line 8', 'line 9']); // 6 characters a line here
    expect(bodies(historyRequest(join({ maxchars: '0' })))).to.deep.equal([]);
    expect(bodies(historyRequest(join({ seconds: '2' })))).to.deep.equal(['line 8', 'line 9']);
    expect(bodies(historyRequest(join({ since: new Date(7000).toISOString() })))).to.deep.equal(['line 7', 'line 8', 'line 9']);
    expect(bodies(historyRequest(join({ seconds: '5', maxstanzas: '2' })))).to.deep.equal(['line 8', 'line 9']);
  });

  it('ignores bounds that are not numbers or dates (the defaults apply)', function () {
    expect(historyRequest(join({ maxstanzas: '-1', maxchars: 'lots', seconds: '1e9', since: 'yesterday' }))).to.deep.equal({});
    expect(historyRequest(xml('presence', {}))).to.deep.equal({});
  });
});
