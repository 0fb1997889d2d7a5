// Immer fragment change detection (DESIGN §3 stage 5), the seed's four cases,
// defined here so anyone can read them: Planning's applyChanges (produceWithPatches
// over the room's projection) on
//   no_change     a small world (10 characters, 5 items), a batch that changes nothing;
//   one_update    the same world, one character moves;
//   many_updates  a medium world (100 characters, 50 items), 50 characters move and 20 items change place;
//   actors_500    500 characters, every one of them moves.
// Median ms of many runs. Part of `make bench`.
import { applyChanges } from '../lib/planning/index.ts';
import type { Projection } from '../lib/contextualization/index.ts';
import { Entity, Field, PLAYER_HP } from '../lib/engines/protocol.ts';
import { median } from './workload.ts';

const QUICK = process.env.BENCH_QUICK === '1';

function world(characters: number, items: number): Projection {
  return {
    version: 1, seed: 1,
    characters: Array.from({ length: characters }, (_, id) => ({ id, nick: `p${id}`, jid: `p${id}@bench`, location: id % 12, present: true, hp: PLAYER_HP, quest: false })),
    items: Array.from({ length: items }, (_, i) => ({ place: i % 12 })),
  };
}

function moves(characters: number, items = 0): Int32Array {
  const log: number[] = [];
  for (let id = 0; id < characters; id++) log.push(Entity.character, id, Field.location, (id + 5) % 12);
  for (let i = 0; i < items; i++) log.push(Entity.item, i, Field.place, (i + 3) % 12);
  return Int32Array.from(log);
}

export const FRAGMENT_CASES = {
  no_change: { projection: world(10, 5), changes: new Int32Array(0) },
  one_update: { projection: world(10, 5), changes: moves(1) },
  many_updates: { projection: world(100, 50), changes: moves(50, 20) },
  actors_500: { projection: world(500, 50), changes: moves(500) },
};

export type FragmentFigures = Record<keyof typeof FRAGMENT_CASES, number>;

export function benchFragments(): FragmentFigures {
  const runs = QUICK ? 200 : 2000;
  const out = {} as FragmentFigures;
  for (const [name, c] of Object.entries(FRAGMENT_CASES)) {
    const samples: number[] = [];
    for (let i = 0; i < runs + 50; i++) {
      const t = performance.now();
      applyChanges(c.projection, c.changes, new Map());
      if (i >= 50) samples.push(performance.now() - t);
    }
    out[name as keyof typeof FRAGMENT_CASES] = median(samples);
  }
  return out;
}

const SEED_MS: FragmentFigures = { no_change: 0.015, one_update: 0.113, many_updates: 0.751, actors_500: 3.209 };

export function printFragments(r: FragmentFigures): void {
  process.stdout.write('\nImmer fragment detection (applyChanges = produceWithPatches), median ms:\n  case            measured   seed claimed\n');
  for (const [name, ms] of Object.entries(r)) {
    process.stdout.write(`  ${name.padEnd(15)}${ms.toFixed(4).padStart(9)}${SEED_MS[name as keyof FragmentFigures].toFixed(3).padStart(14)}\n`);
  }
}
