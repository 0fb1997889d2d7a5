// lib/xmpp/wire placeWire: a description's place as the `<place xmlns="urn:flux:place:0">`
// element the README documents, parsed back as a client would read it.
import { expect } from 'chai';
import { groupchatWire, placeWire } from '../../lib/xmpp/wire.ts';
import { stanzasOf } from '../support/wire.ts';

const parse = (wire: string) => stanzasOf(wire)[0]!;

describe('xmpp placeWire', function () {
  const place = {
    key: 'square', title: 'Town Square & "Fountain"', exits: ['north', 'east'], things: ['torn <handbill>'], moreThings: 0,
    people: ['stray dog', 'Bob'], morePeople: 187,
  };

  it('rides in the description message after the body, which it leaves as it is', function () {
    const message = parse(groupchatWire('realm@game.localhost', 'a@localhost/x', 'Town Square\nExits: north, east', undefined, placeWire(place)));
    expect(message.getChildText('body')).to.equal('Town Square\nExits: north, east');
    const el = message.getChild('place', 'urn:flux:place:0')!;
    expect(el.attrs).to.include({ key: 'square', title: 'Town Square & "Fountain"' });
    expect(el.getChildren('exit').map((e) => e.attrs.dir)).to.deep.equal(['north', 'east']);
    expect(el.getChild('things')!.getChildren('thing').map((e) => e.attrs.name)).to.deep.equal(['torn <handbill>']);
    expect(el.getChild('things')!.attrs.more).to.equal(undefined);
    expect(el.getChild('people')!.getChildren('person').map((e) => e.attrs.nick)).to.deep.equal(['stray dog', 'Bob']);
    expect(el.getChild('people')!.attrs.more).to.equal('187');
  });

  it('adds nothing to a message without a place', function () {
    expect(groupchatWire('r@d', 'a@d/x', 'hi')).to.equal('<message type="groupchat" from="r@d" to="a@d/x"><body>hi</body></message>');
  });
});
