// lib/rooms/affiliations: who may change whose affiliation (XEP-0045 §9, §10), kicks
// (§8.2), the view of queued changes, and the SQL a batch's changes become.
import { expect } from 'chai';
import { Affiliations, bareJid, replayAffiliations, statementsFor } from '../../lib/rooms/affiliations.ts';
import { AFFILIATIONS_PER_ROOM_MAX } from '../../lib/constants.ts';

const room = () => new Affiliations([
  { jid: 'olga@x', affiliation: 'owner' }, { jid: 'pete@x', affiliation: 'admin' }, { jid: 'mia@x', affiliation: 'member' },
]);

describe('rooms Affiliations', function () {
  it('gives owners and admins the moderator role, and makes them builders', function () {
    const a = room();
    expect(['olga@x', 'pete@x', 'mia@x', 'zed@x'].map((j) => a.roleOf(j))).to.deep.equal(['moderator', 'moderator', 'participant', 'participant']);
    const { isBuilder } = a; // handed to the room as it is
    expect(['olga@x', 'pete@x', 'mia@x'].map(isBuilder)).to.deep.equal([true, true, false]);
  });

  it('lets owners change anyone, admins only members and outcasts; others nothing', function () {
    const a = room();
    expect(a.refusal('olga@x', { jid: 'zed@x', affiliation: 'admin' })).to.equal(null);
    expect(a.refusal('pete@x', { jid: 'zed@x', affiliation: 'outcast' })).to.equal(null);
    expect(a.refusal('pete@x', { jid: 'zed@x', affiliation: 'admin' })?.[0]).to.equal('forbidden');
    expect(a.refusal('pete@x', { jid: 'olga@x', affiliation: 'outcast' })?.[0]).to.equal('not-allowed');
    expect(a.refusal('mia@x', { jid: 'zed@x', affiliation: 'outcast' })?.[0]).to.equal('forbidden');
    expect(a.kickRefusal('pete@x', 'mia@x')).to.equal(null);
    expect(a.kickRefusal('pete@x', 'olga@x')?.[0]).to.equal('not-allowed');
    expect(a.kickRefusal('mia@x', 'zed@x')?.[0]).to.equal('forbidden');
  });

  it('never leaves a world without an owner, counting changes queued but not committed', function () {
    const a = new Affiliations([{ jid: 'olga@x', affiliation: 'owner' }, { jid: 'otto@x', affiliation: 'owner' }]);
    const first = { jid: 'otto@x', affiliation: 'none' } as const;
    expect(a.refusal('olga@x', first)).to.equal(null);
    a.hold(first);
    expect(a.intended('otto@x')).to.equal('none');
    expect(a.of('otto@x')).to.equal('owner');
    // Otto is no longer an owner once that commits, and Olga is the last one.
    expect(a.refusal('otto@x', { jid: 'olga@x', affiliation: 'none' })?.[0]).to.equal('forbidden');
    expect(a.refusal('olga@x', { jid: 'olga@x', affiliation: 'admin' })?.[0]).to.equal('conflict');
    a.settle([first], true);
    expect(a.of('otto@x')).to.equal('none');
    expect(a.list('owner').map((e) => e.jid)).to.deep.equal(['olga@x']);
  });

  it('forgets a change whose batch did not commit', function () {
    const a = room();
    const ban = { jid: 'zed@x', affiliation: 'outcast' } as const;
    a.hold(ban);
    expect(a.intended('zed@x')).to.equal('outcast');
    a.settle([ban], false);
    expect(a.intended('zed@x')).to.equal('none');
    expect(a.of('zed@x')).to.equal('none');
  });

  it(`keeps at most ${AFFILIATIONS_PER_ROOM_MAX} entries`, function () {
    const a = new Affiliations([{ jid: 'olga@x', affiliation: 'owner' }, ...Array.from({ length: AFFILIATIONS_PER_ROOM_MAX - 1 }, (_, i) => ({ jid: `m${i}@x`, affiliation: 'member' as const }))]);
    expect(a.refusal('olga@x', { jid: 'zed@x', affiliation: 'outcast' })?.[0]).to.equal('policy-violation');
    expect(a.refusal('olga@x', { jid: 'm1@x', affiliation: 'outcast' })).to.equal(null);
  });

  it('writes a batch\'s changes in two statements at most, the last change of a JID winning; replay gives the same list', function () {
    const changes = [
      { jid: 'zed@x', affiliation: 'outcast', reason: 'spam' }, { jid: 'mia@x', affiliation: 'none' }, { jid: 'zed@x', affiliation: 'member' },
    ] as const;
    const statements = statementsFor('realm', changes);
    expect(statements.map((s) => s.text.split(' ')[0])).to.deep.equal(['DELETE', 'INSERT']);
    expect(statements[0]!.values).to.deep.equal(['realm', ['mia@x']]);
    expect(statements[1]!.values).to.deep.equal(['realm', ['zed@x'], ['member'], [null]]);
    expect(statementsFor('realm', [])).to.deep.equal([]);
    const replayed = replayAffiliations(room(), changes);
    const live = room();
    live.settle(changes, true);
    expect(replayed.all()).to.deep.equal(live.all());
  });

  it('takes bare JIDs only, in lower case', function () {
    expect(bareJid('Olga@Example.ORG')).to.equal('olga@example.org');
    for (const bad of ['example.org', '@example.org', 'olga@', 'olga@example.org/phone', 'ol ga@example.org', 'o<l>@x', 'olga@.org.']) expect(bareJid(bad), bad).to.equal(null);
  });
});
