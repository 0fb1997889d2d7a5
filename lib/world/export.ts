// A world definition back to the YAML an operator writes (`flux world export`):
// importing the file gives the same definition (spec/world/store.spec.ts).
import { stringify } from 'yaml';
import type { WorldDefinition } from './definition.ts';

export function worldToYaml(world: WorldDefinition): string {
  const byKey = <T extends { key: string }>(entries: readonly T[], shape: (e: T) => object) =>
    Object.fromEntries(entries.map((e) => [e.key, shape(e)]));
  const doc = {
    id: world.id,
    title: world.title,
    subject: world.subject,
    anonymity: world.anonymity,
    ...(world.owners.length > 0 ? { owners: world.owners } : {}),
    start: world.start,
    seed: world.seed,
    locations: byKey(world.locations, (l) => ({
      title: l.title, description: l.description, exits: l.exits,
      ...(Object.keys(l.locked).length > 0 ? { locked: l.locked } : {}),
    })),
    items: byKey(world.items, (i) => ({
      name: i.name, keywords: i.keywords, description: i.description, weight: i.weight, damage: i.damage, at: i.at,
    })),
    npcs: byKey(world.npcs, (n) => ({
      name: n.name, keywords: n.keywords, description: n.description, at: n.at, hp: n.hp, damage: n.damage, wander: n.wander,
      ...(n.wants === undefined ? {} : { wants: n.wants, thanks: n.thanks }),
    })),
  };
  return `# World ${world.id}, exported by flux world export.\n${stringify(doc, { lineWidth: 100 })}`;
}
