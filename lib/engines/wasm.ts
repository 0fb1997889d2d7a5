// The product engine: the AssemblyScript kernel in wasm/, one instance per room,
// its character tables resident in linear memory between batches.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { assert } from '../assert.ts';
import { FluxError } from '../errors.ts';
import { WASM_PAGES_MAX } from '../constants.ts';
import { ROOT_DIR } from '../config/index.ts';
import type { BatchOutput, CharacterTables, Engine, WorldMap } from './engine.ts';
import { computeLayout, type Layout } from './layout.ts';
import { CHANGE_I32S, COMMAND_I32S, DIRECTION_COUNT, EFFECT_I32S } from './protocol.ts';

export const WASM_FILE = path.join(ROOT_DIR, 'build/flux.wasm');
const PAGE_BYTES = 65536;

interface Kernel {
  heapBase(): number;
  setLayout(
    exits: number, charLocation: number, charFlags: number, commands: number, changes: number, effects: number,
    locations: number, characters: number, changesMax: number, effectsMax: number, start: number,
  ): void;
  setCharacterCount(characters: number): void;
  run(first: number, count: number): number;
  changes(): number;
  effects(): number;
}

/** Compiled once per process; instantiated once per room. */
export function compileKernel(file = WASM_FILE): WebAssembly.Module {
  try {
    return new WebAssembly.Module(readFileSync(file));
  } catch (err) {
    throw new FluxError('internal-server-error', `cannot load the WASM engine ${file} (run npm run build:wasm): ${(err as Error).message}`);
  }
}

export class WasmEngine implements Engine {
  readonly name = 'wasm';
  private readonly memory: WebAssembly.Memory;
  private readonly kernel: Kernel;
  private layout!: Layout;
  private characterCapacity = 0;
  private characterCount = 0;

  constructor(module: WebAssembly.Module, private readonly map: WorldMap, private readonly commandsMax: number) {
    this.memory = new WebAssembly.Memory({ initial: 2, maximum: WASM_PAGES_MAX });
    const instance = new WebAssembly.Instance(module, {
      env: {
        memory: this.memory,
        abort: (_msg: number, _file: number, line: number, column: number) => {
          throw new FluxError('internal-server-error', `WASM engine assertion failed at ${line}:${column}`);
        },
      },
    });
    this.kernel = instance.exports as unknown as Kernel;
    this.reserve(16);
  }

  load(characters: CharacterTables): void {
    const count = characters.location.length;
    assert(characters.flags.length === count, 'character tables have one length');
    if (count > this.characterCapacity) this.reserve(Math.max(count, this.characterCapacity * 2));
    const l = this.layout;
    new Int32Array(this.memory.buffer, l.charLocation, count).set(characters.location);
    new Int32Array(this.memory.buffer, l.charFlags, count).set(characters.flags);
    this.characterCount = count;
    this.kernel.setCharacterCount(count);
  }

  run(commands: Int32Array): BatchOutput {
    const count = commands.length / COMMAND_I32S;
    assert(Number.isInteger(count) && count <= this.commandsMax, 'a batch fits the command buffer');
    const l = this.layout;
    new Int32Array(this.memory.buffer, l.commands, commands.length).set(commands);
    const changes: Int32Array[] = [];
    const effects: Int32Array[] = [];
    for (let done = 0; done < count;) {
      const ran = this.kernel.run(done, count - done);
      changes.push(this.read(l.changes, this.kernel.changes() * CHANGE_I32S));
      effects.push(this.read(l.effects, this.kernel.effects() * EFFECT_I32S));
      assert(ran > 0, 'the effect buffer holds at least one command');
      done += ran;
    }
    return { changes: concat(changes), effects: concat(effects) };
  }

  snapshot(): CharacterTables {
    const l = this.layout;
    return {
      location: this.read(l.charLocation, this.characterCount),
      flags: this.read(l.charFlags, this.characterCount),
    };
  }

  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  private read(offset: number, i32s: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, i32s).slice();
  }

  /** Lay the tables out for `characters` slots, growing memory; keeps resident state. */
  private reserve(characters: number): void {
    const kept = this.characterCount > 0 ? this.snapshot() : undefined;
    const layout = computeLayout(this.kernel.heapBase(), {
      locations: this.map.locationCount, characters, commands: this.commandsMax,
    });
    const pagesNeeded = Math.ceil(layout.end / PAGE_BYTES);
    const pagesHave = this.memory.buffer.byteLength / PAGE_BYTES;
    if (pagesNeeded > WASM_PAGES_MAX) {
      throw new FluxError('resource-constraint', `the world needs ${pagesNeeded} WASM pages, over the limit of ${WASM_PAGES_MAX}`, 'wait');
    }
    if (pagesNeeded > pagesHave) this.memory.grow(pagesNeeded - pagesHave);
    this.layout = layout;
    this.characterCapacity = characters;
    new Int32Array(this.memory.buffer, layout.exits, this.map.exits.length).set(this.map.exits);
    assert(this.map.exits.length === this.map.locationCount * DIRECTION_COUNT, 'one exit slot per direction');
    this.kernel.setLayout(
      layout.exits, layout.charLocation, layout.charFlags, layout.commands, layout.changes, layout.effects,
      this.map.locationCount, this.characterCount, layout.changesMax, layout.effectsMax, this.map.startLocation,
    );
    if (kept) this.load(kept);
  }
}

function concat(parts: Int32Array[]): Int32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
