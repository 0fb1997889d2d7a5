// A world as an operator writes it (config/worlds/*.yaml, `flux world import`):
// checked whole before anything is written; an error names the file, the line
// and the reason (WorldError).
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { WorldError } from '../errors.ts';
import {
  LOCATIONS_PER_ROOM_MAX, ITEMS_PER_ROOM_MAX, NPCS_PER_ROOM_MAX, NICK_CHARS_MAX, WORLD_TITLE_CHARS_MAX, WORLD_SUBJECT_CHARS_MAX,
  LOCATION_TITLE_CHARS_MAX, LOCATION_DESCRIPTION_CHARS_MAX, ITEM_NAME_CHARS_MAX, ITEM_DESCRIPTION_CHARS_MAX, NPC_DESCRIPTION_CHARS_MAX,
  NPC_THANKS_CHARS_MAX, WORLD_KEY_CHARS_MAX, KEYWORDS_PER_THING_MAX, KEYWORD_CHARS_MAX, OWNERS_PER_ROOM_MAX,
} from '../constants.ts';
import { bareJid } from '../rooms/affiliations.ts';
import { CARRY_WEIGHT_MAX, DIRECTIONS, type Direction } from '../engines/protocol.ts';

export interface LocationDefinition {
  readonly key: string;
  readonly title: string;
  readonly description: string;
  readonly exits: Partial<Record<Direction, string>>;
  /** Direction -> key of the item a walker must carry to pass. */
  readonly locked: Partial<Record<Direction, string>>;
}

export interface ItemDefinition {
  readonly key: string;
  readonly name: string;
  readonly keywords: readonly string[];
  readonly description: string;
  readonly weight: number;
  readonly damage: number;
  /** The location key where it lies at the start. */
  readonly at: string;
}

export interface NpcDefinition {
  readonly key: string;
  readonly name: string;
  readonly keywords: readonly string[];
  readonly description: string;
  readonly at: string;
  readonly hp: number;
  readonly damage: number;
  readonly wander: boolean;
  /** The item key that completes this NPC's quest, and what the NPC says then. */
  readonly wants?: string;
  readonly thanks?: string;
}

/** XEP-0045 §4.2: who sees a player's real JID: the moderators only ('semi') or every occupant ('non'). */
export type Anonymity = 'semi' | 'non';
export const ANONYMITIES: readonly Anonymity[] = ['semi', 'non'];

export interface WorldDefinition {
  readonly id: string;
  readonly title: string;
  readonly subject: string;
  readonly anonymity: Anonymity;
  /** XEP-0045 §5.2: the world's owners, as bare JIDs (lower case); they grant the other affiliations. */
  readonly owners: readonly string[];
  readonly start: string;
  /** The PRNG's starting state; by default derived from the id. */
  readonly seed: number;
  readonly locations: readonly LocationDefinition[];
  readonly items: readonly ItemDefinition[];
  readonly npcs: readonly NpcDefinition[];
}

const ROOM_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const KEY = /^[a-z0-9][a-z0-9_-]*$/i;
const KEYWORD = /^[\p{Ll}\p{N}][\p{Ll}\p{N}'-]*$/u;
const WORLD_KEYS = ['id', 'title', 'subject', 'anonymity', 'owners', 'start', 'seed', 'locations', 'items', 'npcs'];
const LOCATION_KEYS = ['title', 'description', 'exits', 'locked'];
const ITEM_KEYS = ['name', 'keywords', 'description', 'weight', 'damage', 'at'];
const NPC_KEYS = ['name', 'keywords', 'description', 'at', 'hp', 'damage', 'wander', 'wants', 'thanks'];

export function readWorldFile(file: string): WorldDefinition {
  return parseWorld(readFileSync(file, 'utf8'), file);
}

/** A small reader over one YAML document that fails with file:line: reason. */
class Reader {
  constructor(private readonly file: string, private readonly lines: LineCounter) {}

  fail(node: Node | null | undefined, reason: string): never {
    const at = node?.range ? this.lines.linePos(node.range[0]).line : 1;
    throw new WorldError(`${this.file}:${at}: ${reason}`);
  }

  node(map: YAMLMap, key: string): Node | undefined {
    return map.get(key, true) as Node | undefined;
  }

  keys(map: YAMLMap, allowed: string[], owner: string): void {
    for (const item of map.items) {
      const k = isScalar(item.key) ? String(item.key.value) : '';
      if (!allowed.includes(k)) this.fail(item.key as Node, `${owner}: unknown key ${JSON.stringify(k)} (expected ${allowed.join(', ')})`);
    }
  }

  /** A non-empty string of at most `charsMax` characters (code points), trimmed. */
  text(map: YAMLMap, key: string, owner: string, charsMax: number): string {
    const value = this.node(map, key);
    if (!isScalar(value) || typeof value.value !== 'string' || value.value.trim() === '') {
      return this.fail(value ?? map, `${owner}: ${key} must be a non-empty string`);
    }
    const text = value.value.trim();
    const chars = charsOf(text);
    if (chars > charsMax) this.fail(value, `${owner}: ${key} is ${chars} characters; at most ${charsMax}`);
    return text;
  }

  optionalText(map: YAMLMap, key: string, owner: string, charsMax: number): string | undefined {
    return this.node(map, key) === undefined ? undefined : this.text(map, key, owner, charsMax);
  }

  integer(map: YAMLMap, key: string, owner: string, min: number, max: number, fallback?: number): number {
    const value = this.node(map, key);
    if (value === undefined && fallback !== undefined) return fallback;
    if (!isScalar(value) || typeof value.value !== 'number' || !Number.isInteger(value.value) || value.value < min || value.value > max) {
      return this.fail(value ?? map, `${owner}: ${key} must be a whole number from ${min} to ${max}`);
    }
    return value.value;
  }

  boolean(map: YAMLMap, key: string, owner: string, fallback: boolean): boolean {
    const value = this.node(map, key);
    if (value === undefined) return fallback;
    if (!isScalar(value) || typeof value.value !== 'boolean') return this.fail(value, `${owner}: ${key} must be true or false`);
    return value.value;
  }

  /** A list of at most `max` distinct bare JIDs (RFC 7622), lower-cased. */
  jids(map: YAMLMap, key: string, owner: string, max: number): string[] {
    const value = this.node(map, key);
    if (value === undefined) return [];
    if (!isSeq(value)) return this.fail(value, `${owner}: ${key} must be a list of bare JIDs (name@server)`);
    if (value.items.length > max) this.fail(value.items[max] as Node, `${owner}: ${value.items.length} ${key}; at most ${max}`);
    const seen = new Set<string>();
    return value.items.map((j) => {
      const text = isScalar(j) && typeof j.value === 'string' ? j.value.trim() : '';
      const jid = bareJid(text);
      if (jid === null) return this.fail(j as Node, `${owner}: ${key}: ${JSON.stringify(isScalar(j) ? j.value : String(j))} is not a bare JID (name@server, no /resource)`);
      if (seen.has(jid)) this.fail(j as Node, `${owner}: ${key}: ${jid} twice`);
      seen.add(jid);
      return jid;
    });
  }

  keywords(map: YAMLMap, owner: string): string[] {
    const value = this.node(map, 'keywords');
    if (value === undefined) return [];
    if (!isSeq(value)) return this.fail(value, `${owner}: keywords must be a list of lower-case words`);
    if (value.items.length > KEYWORDS_PER_THING_MAX) this.fail(value.items[KEYWORDS_PER_THING_MAX] as Node, `${owner}: ${value.items.length} keywords; at most ${KEYWORDS_PER_THING_MAX}`);
    return value.items.map((k) => {
      if (!isScalar(k) || typeof k.value !== 'string' || !KEYWORD.test(k.value)) this.fail(k as Node, `${owner}: keyword ${JSON.stringify((k as { value?: unknown }).value)} must be one lower-case word`);
      const chars = charsOf(k.value as string);
      if (chars > KEYWORD_CHARS_MAX) this.fail(k, `${owner}: keyword ${JSON.stringify(k.value)} is ${chars} characters; at most ${KEYWORD_CHARS_MAX}`);
      return String((k as { value: string }).value);
    });
  }

  /** A mapping of direction -> location or item key (exits, locked). */
  directions(map: YAMLMap, key: string, owner: string): Partial<Record<Direction, string>> {
    const value = this.node(map, key);
    const out: Partial<Record<Direction, string>> = {};
    if (value === undefined) return out;
    if (!isMap(value)) return this.fail(value, `${owner}: ${key} must map directions to keys`);
    for (const pair of value.items as Pair<Node, Node>[]) {
      const dir = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!(DIRECTIONS as readonly string[]).includes(dir)) this.fail(pair.key, `${owner}: unknown direction ${JSON.stringify(dir)} (use ${DIRECTIONS.join(', ')})`);
      if (!isScalar(pair.value) || typeof pair.value.value !== 'string') this.fail(pair.value ?? pair.key, `${owner}: ${key} ${dir} must name a key`);
      out[dir as Direction] = String((pair.value as { value: string }).value);
    }
    return out;
  }

  /** Each entry of a top-level section (locations, items, npcs) with its key checked. */
  entries(root: YAMLMap, section: string, max: number, required: boolean): { key: string; node: YAMLMap; keyNode: Node }[] {
    const value = this.node(root, section);
    if (value === undefined && !required) return [];
    if (!isMap(value) || (required && value.items.length === 0)) return this.fail(value ?? root, `${section} must be a mapping${required ? ' of at least one entry' : ''}`);
    // Pointing at the first entry over the limit: the section's own line may be far above it.
    if (value.items.length > max) this.fail((value.items[max] as Pair<Node, Node>).key, `${value.items.length} ${section}; at most ${max}`);
    return (value.items as Pair<Node, Node>[]).map((pair) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const singular = section === 'npcs' ? 'npc' : section.slice(0, -1);
      if (!KEY.test(key)) this.fail(pair.key, `${singular} key ${JSON.stringify(key)} must be letters, digits, _ or -`);
      if (charsOf(key) > WORLD_KEY_CHARS_MAX) this.fail(pair.key, `${singular} key ${JSON.stringify(key)} is ${charsOf(key)} characters; at most ${WORLD_KEY_CHARS_MAX}`);
      if (!isMap(pair.value)) return this.fail(pair.value ?? pair.key, `${singular} ${key} must be a mapping`);
      return { key, node: pair.value, keyNode: pair.key };
    });
  }
}

export function parseWorld(source: string, file: string): WorldDefinition {
  const lines = new LineCounter();
  // yaml's own duplicate-key check (uniqueKeys) is quadratic in a mapping's size: 30 s for
  // LOCATIONS_PER_ROOM_MAX locations. duplicateKey() does the same check in linear time.
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new WorldError(`${file}:${e.linePos?.[0]?.line ?? 1}: ${e.message.split('\n')[0]}`);
  }
  const r = new Reader(file, lines);
  const duplicate = duplicateKey(doc);
  if (duplicate) r.fail(duplicate, `Map keys must be unique: ${JSON.stringify(isScalar(duplicate) ? duplicate.value : String(duplicate))} twice (YAML would keep only one)`);
  const root = doc.contents;
  if (!isMap(root)) return r.fail(root, 'a world is a mapping with id, title, subject, start and locations');
  r.keys(root, WORLD_KEYS, 'world');
  const id = r.text(root, 'id', 'world', WORLD_KEY_CHARS_MAX);
  if (!ROOM_ID.test(id)) r.fail(r.node(root, 'id'), `id ${JSON.stringify(id)} must be lower-case letters, digits, . _ - (it becomes the room's JID node)`);

  const locations = r.entries(root, 'locations', LOCATIONS_PER_ROOM_MAX, true).map(({ key, node }) => {
    const owner = `location ${key}`;
    r.keys(node, LOCATION_KEYS, owner);
    return {
      key, title: r.text(node, 'title', owner, LOCATION_TITLE_CHARS_MAX), description: r.text(node, 'description', owner, LOCATION_DESCRIPTION_CHARS_MAX),
      exits: r.directions(node, 'exits', owner), locked: r.directions(node, 'locked', owner), node,
    };
  });
  const locationKeys = new Set(locations.map((l) => l.key));
  const place = (node: YAMLMap, owner: string) => {
    const at = r.text(node, 'at', owner, WORLD_KEY_CHARS_MAX);
    if (!locationKeys.has(at)) r.fail(r.node(node, 'at'), `${owner}: at ${JSON.stringify(at)} is not a location`);
    return at;
  };

  const items = r.entries(root, 'items', ITEMS_PER_ROOM_MAX, false).map(({ key, node }): ItemDefinition => {
    const owner = `item ${key}`;
    r.keys(node, ITEM_KEYS, owner);
    return {
      key, name: r.text(node, 'name', owner, ITEM_NAME_CHARS_MAX), keywords: r.keywords(node, owner), description: r.text(node, 'description', owner, ITEM_DESCRIPTION_CHARS_MAX),
      weight: r.integer(node, 'weight', owner, 0, CARRY_WEIGHT_MAX), damage: r.integer(node, 'damage', owner, 0, 100, 0), at: place(node, owner),
    };
  });
  const itemKeys = new Set(items.map((i) => i.key));

  for (const l of locations) {
    for (const [dir, target] of Object.entries(l.exits)) {
      if (!locationKeys.has(target)) r.fail(directionNode(l.node, 'exits', dir), `exit ${dir} of ${l.key} leads to unknown location ${JSON.stringify(target)}`);
    }
    for (const [dir, key] of Object.entries(l.locked)) {
      if (!(dir in l.exits)) r.fail(directionNode(l.node, 'locked', dir), `${l.key} locks ${dir}, but has no exit ${dir}`);
      if (!itemKeys.has(key)) r.fail(directionNode(l.node, 'locked', dir), `${l.key} ${dir} is locked by unknown item ${JSON.stringify(key)}`);
    }
  }

  const npcNames = new Set<string>();
  const npcs = r.entries(root, 'npcs', NPCS_PER_ROOM_MAX, false).map(({ key, node }): NpcDefinition => {
    const owner = `npc ${key}`;
    r.keys(node, NPC_KEYS, owner);
    const name = r.text(node, 'name', owner, NICK_CHARS_MAX); // an NPC's name is its nick in the room
    if (npcNames.has(name.toLowerCase())) r.fail(r.node(node, 'name'), `${owner}: another NPC is already called ${JSON.stringify(name)}`);
    npcNames.add(name.toLowerCase());
    const wants = r.optionalText(node, 'wants', owner, WORLD_KEY_CHARS_MAX);
    const thanks = r.optionalText(node, 'thanks', owner, NPC_THANKS_CHARS_MAX);
    if (wants !== undefined && !itemKeys.has(wants)) r.fail(r.node(node, 'wants'), `${owner}: wants unknown item ${JSON.stringify(wants)}`);
    if ((wants === undefined) !== (thanks === undefined)) r.fail(r.node(node, wants === undefined ? 'thanks' : 'wants'), `${owner}: wants and thanks go together`);
    return {
      key, name, keywords: r.keywords(node, owner), description: r.text(node, 'description', owner, NPC_DESCRIPTION_CHARS_MAX), at: place(node, owner),
      hp: r.integer(node, 'hp', owner, 1, 1000), damage: r.integer(node, 'damage', owner, 1, 100), wander: r.boolean(node, 'wander', owner, false),
      ...(wants === undefined ? {} : { wants, thanks }),
    };
  });

  const anonymity = r.optionalText(root, 'anonymity', 'world', WORLD_KEY_CHARS_MAX) ?? 'semi';
  if (!ANONYMITIES.includes(anonymity as Anonymity)) r.fail(r.node(root, 'anonymity'), `world: anonymity must be ${ANONYMITIES.join(' or ')}`);
  const start = r.text(root, 'start', 'world', WORLD_KEY_CHARS_MAX);
  if (!locationKeys.has(start)) r.fail(r.node(root, 'start'), `start ${JSON.stringify(start)} is not a location`);
  return {
    id, title: r.text(root, 'title', 'world', WORLD_TITLE_CHARS_MAX), subject: r.text(root, 'subject', 'world', WORLD_SUBJECT_CHARS_MAX), anonymity: anonymity as Anonymity,
    owners: r.jids(root, 'owners', 'world', OWNERS_PER_ROOM_MAX), start,
    seed: r.integer(root, 'seed', 'world', -2147483648, 2147483647, seedOf(id)),
    locations: locations.map(({ node: _node, ...l }) => l), items, npcs,
  };
}

/** The first key that repeats one before it in the same mapping, anywhere in the document. */
function duplicateKey(doc: Document): Node | null {
  let found: Node | null = null;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) {
          found = pair.key as Node;
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return found;
}

/** The YAML node of one direction entry, so an error points at its own line. */
function directionNode(location: YAMLMap, section: string, dir: string): Node | undefined {
  const map = location.get(section, true) as Node | undefined;
  return isMap(map) ? ((map.get(dir, true) as Node | undefined) ?? map) : location;
}

/** Characters as the limits count them: Unicode code points, not UTF-16 units. */
function charsOf(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** FNV-1a of the id, as a non-zero int32: a world's default PRNG seed. */
export function seedOf(id: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(id, 'utf8')) h = Math.imul(h ^ byte, 0x01000193);
  return h === 0 ? 1 : h | 0;
}
