// The console page players open in a browser (lib/web/console.ts), and how it is built and installed.
export { buildPage, installPage, PAGE_DIR, PAGE_FILES, type PageConfigFile } from './build.ts';
