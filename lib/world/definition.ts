// A world as an operator writes it (config/worlds/*.yaml): checked before anything
// is written, errors name the file, line and reason (WorldError).
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, type Node, type Pair } from 'yaml';
import { WorldError } from '../errors.ts';
import { LOCATIONS_PER_ROOM_MAX } from '../constants.ts';
import { DIRECTIONS, type Direction } from '../engines/protocol.ts';

export interface LocationDefinition {
  readonly key: string;
  readonly title: string;
  readonly description: string;
  readonly exits: Partial<Record<Direction, string>>;
}

export interface WorldDefinition {
  readonly id: string;
  readonly title: string;
  readonly subject: string;
  readonly start: string;
  readonly locations: readonly LocationDefinition[];
}

const ROOM_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const WORLD_KEYS = ['id', 'title', 'subject', 'start', 'locations'];
const LOCATION_KEYS = ['title', 'description', 'exits'];

export function readWorldFile(file: string): WorldDefinition {
  return parseWorld(readFileSync(file, 'utf8'), file);
}

export function parseWorld(source: string, file: string): WorldDefinition {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true });
  const fail = (node: Node | null | undefined, reason: string): never => {
    const at = node?.range ? lines.linePos(node.range[0]).line : 1;
    throw new WorldError(`${file}:${at}: ${reason}`);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new WorldError(`${file}:${e.linePos?.[0]?.line ?? 1}: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, 'a world is a mapping with id, title, subject, start and locations');
  const str = (map: Node, key: string, owner?: string): string => {
    const value = (map as { get(k: string, keep: true): unknown }).get(key, true) as Node | undefined;
    if (!isScalar(value) || typeof value.value !== 'string' || value.value.trim() === '') {
      return fail(value ?? map, `${owner ? `${owner}: ` : ''}${key} must be a non-empty string`);
    }
    return value.value.trim();
  };
  checkKeys(root.items, WORLD_KEYS, fail);
  const id = str(root, 'id');
  if (!ROOM_ID.test(id)) fail(root.get('id', true) as Node, `id ${JSON.stringify(id)} must be lower-case letters, digits, . _ - (it becomes the room's JID node)`);
  const locationsNode = root.get('locations', true) as Node | undefined;
  if (!isMap(locationsNode) || locationsNode.items.length === 0) return fail(locationsNode ?? root, 'locations must be a mapping of at least one location');
  if (locationsNode.items.length > LOCATIONS_PER_ROOM_MAX) fail(locationsNode, `at most ${LOCATIONS_PER_ROOM_MAX} locations`);
  const locations = locationsNode.items.map((pair) => parseLocation(pair as Pair<Node, Node>, str, fail));
  const keys = new Set(locations.map((l) => l.key));
  locationsNode.items.forEach((pair, i) => {
    for (const [dir, target] of Object.entries(locations[i]!.exits)) {
      if (!keys.has(target)) fail(exitNode(pair.value as Node, dir), `exit ${dir} of ${locations[i]!.key} leads to unknown location ${JSON.stringify(target)}`);
    }
  });
  const start = str(root, 'start');
  if (!keys.has(start)) fail(root.get('start', true) as Node, `start ${JSON.stringify(start)} is not a location`);
  return { id, title: str(root, 'title'), subject: str(root, 'subject'), start, locations };
}

type Fail = (node: Node | null | undefined, reason: string) => never;
type Str = (map: Node, key: string, owner?: string) => string;

/** The YAML node of one exit, so an error points at its own line. */
function exitNode(location: Node, dir: string): Node | undefined {
  const exits = isMap(location) ? (location.get('exits', true) as Node | undefined) : undefined;
  return isMap(exits) ? ((exits.get(dir, true) as Node | undefined) ?? exits) : location;
}

function parseLocation(pair: Pair<Node, Node>, str: Str, fail: Fail): LocationDefinition {
  const key = isScalar(pair.key) ? String(pair.key.value) : '';
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(key)) fail(pair.key, `location key ${JSON.stringify(key)} must be letters, digits, _ or -`);
  const node = pair.value;
  if (!isMap(node)) return fail(node ?? pair.key, `location ${key} must be a mapping with title, description and exits`);
  checkKeys(node.items, LOCATION_KEYS, fail);
  const exitsNode = node.get('exits', true) as Node | undefined;
  const exits: Partial<Record<Direction, string>> = {};
  if (exitsNode !== undefined) {
    if (!isMap(exitsNode)) fail(exitsNode, `exits of ${key} must map directions to locations`);
    for (const exit of (exitsNode as { items: Pair<Node, Node>[] }).items) {
      const dir = isScalar(exit.key) ? String(exit.key.value) : '';
      if (!(DIRECTIONS as readonly string[]).includes(dir)) fail(exit.key, `unknown direction ${JSON.stringify(dir)} (use ${DIRECTIONS.join(', ')})`);
      if (!isScalar(exit.value) || typeof exit.value.value !== 'string') fail(exit.value ?? exit.key, `exit ${dir} must name a location`);
      exits[dir as Direction] = String((exit.value as { value: string }).value);
    }
  }
  return { key, title: str(node, 'title', `location ${key}`), description: str(node, 'description', `location ${key}`), exits };
}

function checkKeys(items: Pair<unknown, unknown>[], allowed: string[], fail: Fail): void {
  for (const item of items) {
    const k = isScalar(item.key) ? String(item.key.value) : '';
    if (!allowed.includes(k)) fail(item.key as Node, `unknown key ${JSON.stringify(k)} (expected ${allowed.join(', ')})`);
  }
}
