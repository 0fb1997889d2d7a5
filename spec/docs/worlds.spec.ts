// docs/worlds.md documents every key the world reader accepts (lib/world/definition.ts),
// each as a row of its tables, so a key added to the reader without a line in the
// guide fails here; and the sample it walks through is the file it names.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { readWorldFile } from '../../lib/world/index.ts';

const GUIDE = readFileSync(path.join(ROOT_DIR, 'docs/worlds.md'), 'utf8');
const READER = readFileSync(path.join(ROOT_DIR, 'lib/world/definition.ts'), 'utf8');

/** The allowed keys of one level, read from the reader's own list (e.g. LOCATION_KEYS). */
function allowedKeys(list: string): string[] {
  const m = new RegExp(`const ${list} = \\[([^\\]]*)\\]`).exec(READER);
  if (!m) throw new Error(`lib/world/definition.ts has no ${list}`);
  return [...m[1]!.matchAll(/'([^']+)'/g)].map((k) => k[1]!);
}

describe('docs/worlds.md', function () {
  for (const list of ['WORLD_KEYS', 'LOCATION_KEYS', 'ITEM_KEYS', 'NPC_KEYS']) {
    it(`has a table row for each of ${list}`, function () {
      const keys = allowedKeys(list);
      expect(keys).not.to.deep.equal([]);
      for (const key of keys) expect(GUIDE, key).to.include(`| \`${key}\` |`);
    });
  }

  it('walks through config/samples/lighthouse.yaml as it is', function () {
    const world = readWorldFile(path.join(ROOT_DIR, 'config/samples/lighthouse.yaml'));
    expect(GUIDE).to.include(`installed lighthouse: ${world.locations.length} locations, ${world.items.length} items, ${world.npcs.length} NPCs`);
    for (const l of world.locations) expect(GUIDE, l.key).to.include(l.title);
    for (const thing of [...world.items, ...world.npcs]) expect(GUIDE, thing.key).to.include(thing.name);
  });
});
