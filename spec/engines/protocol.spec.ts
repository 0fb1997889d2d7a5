// The numbers that cross the engine boundary are written twice: in
// wasm/assembly/index.ts and in lib/engines/protocol.ts. This spec reads the
// AssemblyScript source as text so the two sides cannot drift apart.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT_DIR } from '../../lib/config/index.ts';
import * as protocol from '../../lib/engines/protocol.ts';
import { ITEMS_PER_ROOM_MAX, LOCATIONS_PER_ROOM_MAX, NPCS_PER_ROOM_MAX } from '../../lib/constants.ts';

const SOURCE = readFileSync(path.join(ROOT_DIR, 'wasm/assembly/index.ts'), 'utf8');

/** Every top-level `const NAME: i32 = value;` of the kernel. */
function kernelConstants(source: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of source.matchAll(/^const\s+([A-Z][A-Z0-9_]*)\s*:\s*i32\s*=\s*(-?\d+)\s*;/gm)) {
    expect(out.has(m[1]!), `${m[1]} defined once`).to.equal(false);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** CMD_DESCRIPTION_PERSON -> descriptionPerson */
function camel(screaming: string): string {
  return screaming.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function withPrefix(constants: Map<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries([...constants]
    .filter(([name]) => name.startsWith(prefix))
    .map(([name, value]) => [camel(name.slice(prefix.length)), value]));
}

describe('engines protocol (TypeScript and AssemblyScript agree)', function () {
  const constants = kernelConstants(SOURCE);

  it('finds the kernel constants', function () {
    expect(constants.size).to.be.at.least(20);
  });

  const groups = [
    ['CMD_', 'Cmd', protocol.Cmd, []],
    ['FX_', 'Fx', protocol.Fx, []],
    ['H_', 'Header', protocol.Header, []],
    // The kernel never writes the room's seed itself: the host logs it once per batch.
    ['FIELD_', 'Field', protocol.Field, ['seed']],
    ['ENTITY_', 'Entity', protocol.Entity, ['room']],
    // `any` and `thing` are the kernel's own scopes; notFound reports them as `here`.
    ['SCOPE_', 'Look', { ...protocol.Look, any: 4, thing: 5 }, []],
    ['REFUSAL_', 'Refusal', protocol.Refusal, []],
  ] as const;
  for (const [prefix, name, table, hostOnly] of groups) {
    it(`each ${prefix}X equals ${name}.x, and neither side has one the other lacks`, function () {
      const host = Object.fromEntries(Object.entries(table).filter(([k]) => !(hostOnly as readonly string[]).includes(k)));
      expect(withPrefix(constants, prefix)).to.deep.equal(host);
    });
  }

  for (const [name, table] of [['Cmd', protocol.Cmd], ['Fx', protocol.Fx], ['Header', protocol.Header]] as const) {
    it(`${name} values are distinct`, function () {
      const values = Object.values(table);
      expect(new Set(values).size).to.equal(values.length);
    });
  }

  it('agrees on record sizes, flags, rules and the number of directions', function () {
    const expected: Record<string, number> = {
      COMMAND_I32S: protocol.COMMAND_I32S,
      CHANGE_I32S: protocol.CHANGE_I32S,
      EFFECT_I32S: protocol.EFFECT_I32S,
      FLAG_CREATED: protocol.FLAG_CREATED,
      FLAG_PRESENT: protocol.FLAG_PRESENT,
      FLAG_NPC: protocol.FLAG_NPC,
      FLAG_QUEST: protocol.FLAG_QUEST,
      PLAYER_HP: protocol.PLAYER_HP,
      PLAYER_DAMAGE: protocol.PLAYER_DAMAGE,
      CARRY_WEIGHT_MAX: protocol.CARRY_WEIGHT_MAX,
      MATCHES_PER_NAME_MAX: protocol.MATCHES_PER_NAME_MAX,
      DIRECTIONS: protocol.DIRECTION_COUNT,
      LOCATIONS_MAX: LOCATIONS_PER_ROOM_MAX,
      ITEMS_MAX: ITEMS_PER_ROOM_MAX,
      NPCS_MAX: NPCS_PER_ROOM_MAX,
      CREATED_ITEM_WEIGHT: protocol.CREATED_ITEM_WEIGHT,
      NPC_HP_BUILT: protocol.NPC_HP_BUILT,
      NPC_DAMAGE_BUILT: protocol.NPC_DAMAGE_BUILT,
      NOWHERE: protocol.NOWHERE,
      UNDO_STEPS_MAX: protocol.UNDO_STEPS_MAX,
      UNDO_RECORD_I32S: protocol.UNDO_RECORD_I32S,
      UNDO_I32S: protocol.UNDO_I32S,
    };
    expect([protocol.LOCATIONS_MAX, protocol.ITEMS_MAX, protocol.NPCS_MAX]).to.deep.equal([LOCATIONS_PER_ROOM_MAX, ITEMS_PER_ROOM_MAX, NPCS_PER_ROOM_MAX]);
    for (const [constant, value] of Object.entries(expected)) {
      expect(constants.get(constant), constant).to.equal(value);
    }
  });

  it('keeps every header slot inside the header', function () {
    expect(Math.max(...Object.values(protocol.Header))).to.be.below(protocol.HEADER_I32S);
  });

  it('maps SCREAMING_SNAKE to camelCase as the protocol names them', function () {
    expect(camel('NOT_YOURSELF')).to.equal('notYourself');
    expect(camel('NO_EXIT')).to.equal('noExit');
    expect(camel('JOIN')).to.equal('join');
  });
});
