// The `wasm` and `js` engines: one host for the rules of wasm/assembly/index.ts,
// run either as WebAssembly (the product) or as the same source compiled to plain
// JavaScript (the fallback). Both keep the room's tables resident in a memory this
// host owns and lays out (layout.ts); one call per batch, numbers only.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { assert } from '../assert.ts';
import { FluxError } from '../errors.ts';
import { WASM_PAGES_MAX } from '../constants.ts';
import { ROOT_DIR } from '../config/index.ts';
import type { BatchInput, BatchOutput, Engine, EngineState, Spare, WorldMap } from './engine.ts';
import { computeLayout, needed, readState, writeState, type Capacity, type Layout } from './layout.ts';
import { CHANGE_I32S, COMMAND_I32S, DIRECTION_COUNT, EFFECT_I32S, Header, seedChange } from './protocol.ts';

export const WASM_FILE = path.join(ROOT_DIR, 'build/flux.wasm');
export const PORTABLE_FILE = path.join(ROOT_DIR, 'build/flux-kernel.cjs');
const PAGE_BYTES = 65536;

/** A running copy of the rules and the memory it works on. */
interface Backend {
  heapBase(): number;
  run(header: number, first: number, count: number): number;
  /** The memory as it is now (growing replaces it). */
  heap(): Int32Array;
  grow(bytes: number): void;
}

/** Compiled once per process; instantiated once per room. */
export function compileKernel(file = WASM_FILE): WebAssembly.Module {
  try {
    return new WebAssembly.Module(readFileSync(file));
  } catch (err) {
    throw new FluxError('internal-server-error', `cannot load the WASM engine ${file} (run npm run build): ${(err as Error).message}`);
  }
}

/** The rules compiled as JavaScript (wasm/portable.ts), read once per process. */
export function portableKernel(file = PORTABLE_FILE): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FluxError('internal-server-error', `cannot load the js engine ${file} (run npm run build): ${(err as Error).message}`);
  }
}

function wasmBackend(module: WebAssembly.Module): Backend {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: WASM_PAGES_MAX });
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: (_msg: number, _file: number, line: number, column: number) => {
        throw new FluxError('internal-server-error', `engine assertion failed at ${line}:${column}`);
      },
    },
  });
  const kernel = instance.exports as unknown as { heapBase(): number; run(h: number, f: number, c: number): number };
  let view = new Int32Array(memory.buffer);
  return {
    heapBase: () => kernel.heapBase(),
    run: (h, f, c) => kernel.run(h, f, c),
    heap: () => (view.buffer === memory.buffer ? view : (view = new Int32Array(memory.buffer))),
    grow(bytes) {
      const pages = Math.ceil(bytes / PAGE_BYTES) - memory.buffer.byteLength / PAGE_BYTES;
      if (pages > 0) memory.grow(pages);
    },
  };
}

function jsBackend(code: string): Backend {
  let view = new Int32Array(2 * PAGE_BYTES / 4);
  const memoryModule = {
    ld: (address: number) => view[address >> 2]!,
    st: (address: number, value: number) => {
      view[address >> 2] = value;
    },
    heapBase: () => 0,
  };
  const exports: { run?: (h: number, f: number, c: number) => number } = {};
  const requireMemory = (name: string) => {
    assert(name === './memory', `the rules import only ./memory, not ${name}`);
    return memoryModule;
  };
  const assertion = (ok: unknown) => {
    if (!ok) throw new FluxError('internal-server-error', 'engine assertion failed');
  };
  new Function('exports', 'require', 'assert', code)(exports, requireMemory, assertion);
  const run = exports.run!;
  return {
    heapBase: () => 0,
    run,
    heap: () => view,
    grow(bytes) {
      const pages = Math.ceil(bytes / PAGE_BYTES);
      if (pages * PAGE_BYTES <= view.byteLength) return;
      const bigger = new Int32Array(pages * PAGE_BYTES / 4);
      bigger.set(view);
      view = bigger;
    },
  };
}

export class KernelEngine implements Engine {
  private layout!: Layout;

  /** `pagesMax`: the memory this room may grow to, in 64 KiB pages. */
  static wasm(module: WebAssembly.Module, map: WorldMap, commandsMax: number, pagesMax = WASM_PAGES_MAX): KernelEngine {
    return new KernelEngine('wasm', wasmBackend(module), map, commandsMax, pagesMax);
  }

  static js(code: string, map: WorldMap, commandsMax: number, pagesMax = WASM_PAGES_MAX): KernelEngine {
    return new KernelEngine('js', jsBackend(code), map, commandsMax, pagesMax);
  }

  private constructor(
    readonly name: string, private readonly backend: Backend, private readonly map: WorldMap,
    private readonly commandsMax: number, private readonly pagesMax: number,
  ) {
    assert(pagesMax <= WASM_PAGES_MAX, 'a room stays within the memory WebAssembly allows');
    const at = needed(map, 0);
    this.relayout({ commands: commandsMax, characters: Math.max(16, at.characters), locations: at.locations, items: at.items },
      { seed: 0, location: new Int32Array(0), flags: new Int32Array(0), hp: new Int32Array(0), itemPlace: new Int32Array(map.itemWeight.length), map });
  }

  load(state: EngineState): void {
    const map = state.map ?? this.map;
    const count = state.location.length;
    assert(state.flags.length === count && state.hp.length === count, 'character tables have one length');
    assert(state.itemPlace.length === map.itemWeight.length, 'one place per item');
    assert(map.exits.length >= map.locationCount * DIRECTION_COUNT && map.locks.length === map.exits.length, 'a way out of every place, each direction');
    const need = needed(map, count);
    const cap = this.layout.capacity;
    if (need.characters > cap.characters || need.locations > cap.locations || need.items > cap.items) {
      this.relayout(grown(cap, need), { ...state, map });
    } else {
      writeState(this.backend.heap(), this.layout, state, map);
    }
  }

  reserve(spare: Spare): void {
    const now = readState(this.backend.heap(), this.layout);
    const need = { characters: now.location.length + spare.characters, locations: now.map.locationCount + spare.locations, items: now.itemPlace.length + spare.items };
    const cap = this.layout.capacity;
    if (need.characters > cap.characters || need.locations > cap.locations || need.items > cap.items) this.relayout(grown(cap, need), now);
  }

  run(batch: BatchInput): BatchOutput {
    const count = batch.commands.length / COMMAND_I32S;
    const l = this.layout;
    assert(Number.isInteger(count) && count <= this.commandsMax, 'a batch fits the command buffer');
    assert(batch.matches.length <= l.matchesMax, 'the match lists fit their buffer');
    let heap = this.backend.heap();
    heap.set(batch.commands, l.commands >> 2);
    heap.set(batch.matches, l.matches >> 2);
    const changes: Int32Array[] = [];
    const effects: Int32Array[] = [];
    const seedBefore = heap[(l.header >> 2) + Header.seed]!;
    let changeBase = 0;
    let done = 0;
    do { // an empty batch still runs once: the counts come back as zero
      heap[(l.header >> 2) + Header.changeBase] = changeBase;
      const ran = this.backend.run(l.header, done, count - done);
      heap = this.backend.heap();
      const changeCount = heap[(l.header >> 2) + Header.changeCount]!;
      changes.push(heap.slice(l.changes >> 2, (l.changes >> 2) + changeCount * CHANGE_I32S));
      effects.push(heap.slice(l.effects >> 2, (l.effects >> 2) + heap[(l.header >> 2) + Header.effectCount]! * EFFECT_I32S));
      changeBase += changeCount;
      assert(ran > 0 || count === 0, 'the output buffers hold at least one command');
      done += ran;
    } while (done < count);
    const seed = heap[(l.header >> 2) + Header.seed]!;
    if (seed !== seedBefore) changes.push(seedChange(seed));
    return { changes: concat(changes), effects: concat(effects) };
  }

  snapshot(): Required<EngineState> {
    return readState(this.backend.heap(), this.layout);
  }

  memoryBytes(): number {
    return this.backend.heap().byteLength;
  }

  /** Lays the tables out for a new capacity, growing memory, and writes `state` into them. */
  private relayout(capacity: Capacity, state: EngineState & { map: WorldMap }): void {
    const layout = computeLayout(this.backend.heapBase(), capacity);
    const pages = Math.ceil(layout.end / PAGE_BYTES);
    if (pages > this.pagesMax) {
      throw new FluxError('resource-constraint', `the world needs ${pages} memory pages (64 KiB each), over the limit of ${this.pagesMax}`, 'wait');
    }
    this.backend.grow(layout.end);
    this.layout = layout;
    writeState(this.backend.heap(), layout, state, state.map);
  }
}

/** Room for `need`, doubling what grows so that one join or one dig at a time does not lay the tables out again each time. */
function grown(cap: Capacity, need: { characters: number; locations: number; items: number }): Capacity {
  const more = (now: number, wanted: number) => (wanted <= now ? now : Math.max(wanted, now * 2));
  return { commands: cap.commands, characters: more(cap.characters, need.characters), locations: more(cap.locations, need.locations), items: more(cap.items, need.items) };
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
