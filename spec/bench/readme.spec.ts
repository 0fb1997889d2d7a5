// The README's measured figures are bench/readme.ts's output from
// bench/results/latest.json, and nothing typed by hand: this fails as soon as the
// marked section differs from what the generator makes of the committed results.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { BEGIN, END, markedSection, README_FILE, renderMeasured, RESULTS_FILE, spliceReadme } from '../../bench/readme.ts';

describe('README measured figures (bench/readme.ts)', function () {
  it('are what the generator makes of bench/results/latest.json (npm run bench:readme rewrites them)', function () {
    const results = JSON.parse(readFileSync(RESULTS_FILE, 'utf8'));
    const readme = readFileSync(README_FILE, 'utf8');
    expect(markedSection(readme)).to.equal(renderMeasured(results).trim());
  });

  it('shows a failed part as its failure and a part not run as not measured, never as a number', function () {
    const text = renderMeasured({
      commit: 'abc', dirty: true, date: '2026-01-02T00:00:00Z', quick: true, seconds: 9, parts: ['xmpp'], machine: {},
      xmpp: { prosody: { error: 'prosody: did not start | port taken' } },
    });
    expect(text).to.include('failed: prosody: did not start \\| port taken');
    expect(text).to.include('`wasm` engine, commands/s | not measured in this run');
    expect(text).to.include('plus uncommitted changes');
  });

  it('marks a capacity no step exceeded as a lower bound', function () {
    const server = {
      join_clients: 10, join_flux_s: 1, join_muc_s: 1, join_flux_failed: 0, join_muc_failed: 0, flux_says_per_s: 40, flux_says_failed_at_per_s: null,
      muc_says_per_s: 80, muc_says_failed_at_per_s: 90, flux_over_muc: 0.5, echo_rt_per_s: 100, echo_rt_failed_at_per_s: 120,
    };
    const text = renderMeasured({ machine: {}, xmpp: { prosody: server } });
    expect(text).to.include('>= 40 / 80');
    expect(text).to.include('| Flux / MUC capacity | 0.50 |');
    const uneven = renderMeasured({ machine: {}, xmpp: { prosody: { ...server, flux_occupants: 6, muc_occupants: 10 } } });
    expect(uneven, 'a ratio of rooms of different sizes says so').to.include('0.50 (rooms of 6 and 10: not the same fan-out)');
  });

  it('changes nothing outside the markers', function () {
    const readme = `# Title\n\nbefore\n${BEGIN}\nold\n${END}\nafter\n`;
    expect(spliceReadme(readme, 'new')).to.equal(`# Title\n\nbefore\n${BEGIN}\nnew\n${END}\nafter\n`);
    expect(() => markedSection('no markers')).to.throw(/bench:begin/);
  });
});
