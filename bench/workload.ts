// The workload every bench shares: 1,000-command batches in the
// starter world with 500 characters, of a stated mix: 40% say/emote, 25% look,
// 20% movement, 15% take/drop/give/attack. Generated from a seed, so every run
// and every engine sees the same commands.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { openDb, migrate } from '../lib/db/index.ts';
import { loadRoom, type LoadedRoom } from '../lib/contextualization/index.ts';
import { installWorlds, readWorldFile } from '../lib/world/index.ts';
import { ROOT_DIR } from '../lib/config/index.ts';
import { DIRECTIONS } from '../lib/engines/protocol.ts';
import type { Command } from '../lib/negotiation/index.ts';

export const CHARACTERS = 500;
export const BATCH_COMMANDS = 1000;
export const MIX = '40% say/emote, 25% look, 20% movement, 15% take/drop/give/attack';

const world = readWorldFile(path.join(ROOT_DIR, 'config/worlds/realm.yaml'));
const thingWords = world.items.map((i) => i.keywords[0] ?? i.name);
const npcWords = world.npcs.map((n) => n.keywords[0] ?? n.name);

export const nickOf = (i: number) => `p${i}`;

/** A deterministic batch: the same seed gives the same commands. */
export function makeBatch(seed: number, characters = CHARACTERS, size = BATCH_COMMANDS): Command[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  return Array.from({ length: size }, (): Command => {
    const nick = nickOf(Math.floor(next() * characters));
    const r = next();
    if (r < 0.3) return { kind: 'say', nick, text: 'a few words to the people here' };
    if (r < 0.4) return { kind: 'emote', nick, text: 'looks around' };
    if (r < 0.65) return { kind: 'look', nick };
    if (r < 0.85) return { kind: 'go', nick, direction: Math.floor(next() * DIRECTIONS.length) };
    if (r < 0.89) return { kind: 'take', nick, what: pick(thingWords) };
    if (r < 0.93) return { kind: 'drop', nick, what: pick(thingWords) };
    if (r < 0.96) return { kind: 'give', nick, what: pick(thingWords), whom: nickOf(Math.floor(next() * characters)) };
    return { kind: 'attack', nick, whom: next() < 0.5 ? pick(npcWords) : nickOf(Math.floor(next() * characters)) };
  });
}

/** The starter world as a room loads it (installed in a throwaway embedded database). */
export async function starterRoom(): Promise<LoadedRoom> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-bench-'));
  const db = await openDb({ databaseUrl: '', dataDir: dir, log: pino({ level: 'silent' }) });
  try {
    await migrate(db);
    await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
    return (await loadRoom(db, 'realm'))!;
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;
