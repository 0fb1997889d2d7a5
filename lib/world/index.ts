export { parseWorld, readWorldFile, seedOf, type Anonymity, type WorldDefinition, type LocationDefinition, type ItemDefinition, type NpcDefinition } from './definition.ts';
export { installWorld, installWorlds, exportWorld, installedWorld, worldFiles } from './store.ts';
export { worldToYaml } from './export.ts';
