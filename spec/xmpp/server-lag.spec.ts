// lib/xmpp/server-lag.ts: the server's lag is the round trip of a probe through it,
// or the age of the probe still out; while it lags, the heaviest rooms shed.
import { expect } from 'chai';
import { ServerLag, sheds } from '../../lib/xmpp/server-lag.ts';
import { RateMeter } from '../../lib/negotiation/index.ts';
import { IN_FLIGHT_BYTES_CEILING, IN_FLIGHT_BYTES_MAX, IN_FLIGHT_WORK_MS, PROBE_SPACING_BYTES, PROBES_OUT_MAX } from '../../lib/constants.ts';
import { XmlParser } from '../../lib/xmpp/xml-parser.ts';
import type { Element } from '@xmpp/xml';

function parsed(wire: string): Element {
  const parser = new XmlParser();
  let el: Element | undefined;
  parser.on('element', (e: Element) => (el = e));
  parser.write(`<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:component:accept">${wire}`);
  return el!;
}

describe('xmpp ServerLag', function () {
  const now = { ms: 1000 };
  const clock = { nowMs: () => now.ms };

  it('measures a probe to its own domain, one per period while one is out, and counts the one still out', function () {
    const written: string[] = [];
    let bytes = 0;
    const lag = new ServerLag('game.localhost', (w) => { written.push(w); bytes += w.length; }, () => bytes, clock);
    expect(lag.ms).to.equal(0);
    lag.probe();
    lag.probe();
    expect(written, 'one probe out at a time').to.have.length(1);
    const probe = parsed(written[0]!);
    expect(probe.attrs).to.include({ from: 'game.localhost', to: 'game.localhost', type: 'headline' });
    now.ms += 30;
    expect(lag.ms, 'still out').to.equal(30);
    bytes += 5000; // written after the probe: in flight until a later probe comes back
    expect(lag.inFlightBytes).to.equal(bytes);
    expect(lag.returned(probe)).to.equal(true);
    expect(lag.inFlightBytes, 'what was written before the probe is read').to.equal(written[0]!.length + 5000);
    now.ms += 500;
    expect(lag.ms, 'the last round trip').to.equal(30);
    lag.probe();
    now.ms += 400;
    expect(lag.ms, 'a probe out longer than the last round trip').to.equal(400);
    expect(lag.returned(parsed('<message from="alice@localhost/a" to="game.localhost" id="flux-lag-2"/>')), 'not from the domain').to.equal(false);
    lag.reset();
    expect(lag.ms).to.equal(0);
  });

  it('widens the window to what the server reads in IN_FLIGHT_WORK_MS, only from a backlog, within its floor and ceiling', function () {
    const written: string[] = [];
    let bytes = 0;
    const lag = new ServerLag('game.localhost', (w) => { written.push(w); bytes += w.length; }, () => bytes, clock);
    lag.reset();
    expect(lag.windowBytes, 'never seen busy: the floor').to.equal(IN_FLIGHT_BYTES_MAX);
    const roundTrip = (write: number, ms: number) => {
      bytes += write;
      lag.probe();
      now.ms += ms;
      expect(lag.returned(parsed(written.at(-1)!))).to.equal(true);
    };
    roundTrip(1000, 20); // a trickle says nothing about the server's speed
    expect(lag.windowBytes).to.equal(IN_FLIGHT_BYTES_MAX);
    roundTrip(400_000, 20); // 400 KB read in 20 ms: 20 KB/ms
    expect(lag.windowBytes).to.be.within(20_000 * IN_FLIGHT_WORK_MS, 20_100 * IN_FLIGHT_WORK_MS);
    const wide = lag.windowBytes;
    roundTrip(1000, 20);
    expect(lag.windowBytes, 'a quiet spell lets it shrink, not vanish').to.be.below(wide).and.above(IN_FLIGHT_BYTES_MAX);
    roundTrip(40_000_000, 100); // 400 KB/ms: past the ceiling
    expect(lag.windowBytes).to.equal(IN_FLIGHT_BYTES_CEILING);
    for (let i = 0; i < 40; i++) roundTrip(100, 50);
    expect(lag.windowBytes, 'idle for long: back to the floor').to.equal(IN_FLIGHT_BYTES_MAX);
    roundTrip(1_000_000, 4000); // a slow server (250 B/ms) keeps the floor
    expect(lag.windowBytes).to.equal(IN_FLIGHT_BYTES_MAX);
    lag.reset();
    expect(lag.windowBytes).to.equal(IN_FLIGHT_BYTES_MAX);
  });

  it('under load, follows every PROBE_SPACING_BYTES written with a probe, so the window frees as the server reads', function () {
    const written: string[] = [];
    let bytes = 0;
    const lag = new ServerLag('game.localhost', (w) => { written.push(w); bytes += w.length; }, () => bytes, clock);
    lag.reset();
    bytes += PROBE_SPACING_BYTES - 1;
    lag.wrote();
    expect(written, 'less than the spacing: no probe').to.have.length(0);
    const chunks = [1, 2, 3].map(() => {
      bytes += PROBE_SPACING_BYTES;
      const before = bytes;
      lag.wrote();
      return before;
    });
    expect(written, 'one probe per spacing written').to.have.length(3);
    now.ms += 10;
    expect(lag.returned(parsed(written[1]!))).to.equal(true);
    expect(lag.inFlightBytes, 'the second probe back: everything before it is read').to.equal(bytes - chunks[1]!);
    expect(lag.returned(parsed(written[0]!)), 'an earlier one after it is still ours').to.equal(true);
    expect(lag.inFlightBytes, 'and says nothing new').to.equal(bytes - chunks[1]!);
    now.ms += 25;
    expect(lag.ms, 'the third still out').to.equal(35);
    for (let i = 0; i < PROBES_OUT_MAX + 5; i++) {
      bytes += PROBE_SPACING_BYTES;
      lag.wrote();
    }
    expect(written.length - 3, 'at most PROBES_OUT_MAX out').to.equal(PROBES_OUT_MAX - 1);
  });

  it('stops probing a server that answers a probe with an error', function () {
    const written: string[] = [];
    const lag = new ServerLag('game.localhost', (w) => written.push(w), () => 0, clock);
    lag.probe();
    const bounced = parsed(written[0]!.replace('type="headline"', 'type="error"'));
    expect(lag.returned(bounced)).to.equal(true);
    expect(lag.unsupported).to.equal(true);
    lag.probe();
    expect(written).to.have.length(1);
    expect(lag.ms).to.equal(0);
  });

  it('sheds the rooms writing at least the mean rate, never a silent one', function () {
    expect(sheds(900, [900, 50, 50])).to.equal(true);
    expect(sheds(50, [900, 50, 50])).to.equal(false);
    expect(sheds(100, [100, 100])).to.equal(true);
    expect(sheds(0, [900])).to.equal(false);
    expect(sheds(10, [10, 0, 0])).to.equal(true);
  });

  it('RateMeter: a recent rate that decays once writing stops', function () {
    const meter = new RateMeter(clock);
    for (let i = 0; i < 100; i++) {
      meter.add(1000);
      now.ms += 10;
    }
    expect(meter.perS).to.be.within(50_000, 100_000);
    now.ms += 5000;
    expect(meter.perS).to.be.below(1000);
  });
});
