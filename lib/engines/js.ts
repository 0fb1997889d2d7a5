// The fallback engine (FLUX_ENGINE=js, or when WebAssembly cannot load): the rules
// of wasm/assembly/index.ts over the same flat tables, in plain TypeScript typed
// arrays. It must stay byte-identical to the kernel: spec/engines/differential.spec.ts
// runs both on random worlds and command streams.
import { assert } from '../assert.ts';
import type { BatchOutput, CharacterTables, Engine, WorldMap } from './engine.ts';
import { Cmd, COMMAND_I32S, DIRECTION_COUNT, ENTITY_CHARACTER, Field, FLAG_CREATED, FLAG_PRESENT, Fx } from './protocol.ts';

export class JsEngine implements Engine {
  readonly name = 'js';
  private location = new Int32Array(0);
  private flags = new Int32Array(0);
  private changes: number[] = [];
  private effects: number[] = [];

  constructor(private readonly map: WorldMap) {}

  load(characters: CharacterTables): void {
    assert(characters.flags.length === characters.location.length, 'character tables have one length');
    this.location = characters.location.slice();
    this.flags = characters.flags.slice();
  }

  snapshot(): CharacterTables {
    return { location: this.location.slice(), flags: this.flags.slice() };
  }

  memoryBytes(): number {
    return this.location.byteLength + this.flags.byteLength + this.map.exits.byteLength;
  }

  run(commands: Int32Array): BatchOutput {
    this.changes = [];
    this.effects = [];
    for (let i = 0; i * COMMAND_I32S < commands.length; i++) {
      const at = i * COMMAND_I32S;
      this.apply(i, commands[at]!, commands[at + 1]!, commands[at + 2]!);
    }
    return { changes: Int32Array.from(this.changes), effects: Int32Array.from(this.effects) };
  }

  private apply(index: number, kind: number, actor: number, a: number): void {
    assert(actor >= 0 && actor < this.location.length, 'the actor has a slot');
    if (kind === Cmd.join) return this.join(actor);
    if (!this.present(actor)) {
      if (kind !== Cmd.leave) this.effect(actor, Fx.notPresent, 0, 0, 0);
      return;
    }
    if (kind === Cmd.leave) this.leave(actor);
    else if (kind === Cmd.look) this.describe(actor);
    else if (kind === Cmd.go) this.go(actor, a);
    else if (kind === Cmd.say) this.tellLocation(this.location[actor]!, -1, Fx.say, actor, a, index);
    else if (kind === Cmd.who) this.who(actor);
    else if (kind === Cmd.help) this.effect(actor, Fx.help, 0, 0, 0);
    else assert(false, `unknown command kind ${kind}`);
  }

  private present(c: number): boolean {
    return (this.flags[c]! & FLAG_PRESENT) !== 0;
  }

  private change(id: number, field: number, value: number): void {
    this.changes.push(ENTITY_CHARACTER, id, field, value);
  }

  private effect(recipient: number, template: number, a: number, b: number, c: number): void {
    this.effects.push(recipient, template, a, b, c);
  }

  private setLocation(c: number, location: number): void {
    this.location[c] = location;
    this.change(c, Field.location, location);
  }

  private setPresent(c: number, present: boolean): void {
    this.flags[c] = present ? this.flags[c]! | FLAG_PRESENT : this.flags[c]! & ~FLAG_PRESENT;
    this.change(c, Field.present, present ? 1 : 0);
  }

  private tellLocation(location: number, except: number, template: number, a: number, b: number, c: number): void {
    for (let i = 0; i < this.location.length; i++) {
      if (i !== except && this.present(i) && this.location[i] === location) this.effect(i, template, a, b, c);
    }
  }

  private describe(viewer: number): void {
    const here = this.location[viewer]!;
    this.effect(viewer, Fx.description, here, 0, 0);
    for (let i = 0; i < this.location.length; i++) {
      if (i !== viewer && this.present(i) && this.location[i] === here) this.effect(viewer, Fx.descriptionPerson, i, 0, 0);
    }
  }

  private join(actor: number): void {
    if ((this.flags[actor]! & FLAG_CREATED) === 0) {
      this.flags[actor] = FLAG_CREATED;
      this.change(actor, Field.created, 1);
      this.setLocation(actor, this.map.startLocation);
    }
    if (!this.present(actor)) {
      this.setPresent(actor, true);
      this.tellLocation(this.location[actor]!, actor, Fx.arrive, actor, -1, 0);
    }
    this.describe(actor);
  }

  private leave(actor: number): void {
    this.setPresent(actor, false);
    this.tellLocation(this.location[actor]!, actor, Fx.depart, actor, -1, 0);
  }

  private go(actor: number, direction: number): void {
    assert(direction >= 0 && direction < DIRECTION_COUNT, 'a direction');
    const from = this.location[actor]!;
    const to = this.map.exits[from * DIRECTION_COUNT + direction]!;
    if (to < 0) return this.effect(actor, Fx.noExit, direction, 0, 0);
    this.tellLocation(from, actor, Fx.depart, actor, direction, 0);
    this.setLocation(actor, to);
    this.tellLocation(to, actor, Fx.arrive, actor, direction < 4 ? (direction + 2) & 3 : direction ^ 1, 0);
    this.describe(actor);
  }

  private who(actor: number): void {
    let present = 0;
    for (let i = 0; i < this.location.length; i++) if (this.present(i)) present++;
    this.effect(actor, Fx.who, present, 0, 0);
    for (let i = 0; i < this.location.length; i++) {
      if (this.present(i)) this.effect(actor, Fx.whoPerson, i, this.location[i]!, 0);
    }
  }
}
