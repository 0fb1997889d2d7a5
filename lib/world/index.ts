export { parseWorld, readWorldFile, type WorldDefinition, type LocationDefinition } from './definition.ts';
export { installWorld, installWorlds, worldFiles } from './store.ts';
