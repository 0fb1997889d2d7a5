// A real browser for the console page's specs: Debian's chromium driven by
// playwright-core (which cannot download browsers here). Without chromium the
// suite is skipped with one line, or fails under CI, which installs it (.ci/run).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { isExecutable } from '../../lib/demo/private-server.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Screenshots each browser spec leaves behind (ignored by git). */
export const SCREENSHOT_DIR = path.join(ROOT_DIR, 'spec/web/screenshots');
/** A phone's width, in CSS pixels: the page must work there. */
export const PHONE_VIEWPORT = { width: 390, height: 740 } as const;

export type { Browser, Page };

/** describe() for suites that need chromium: without it, one failing test under CI, one skipped line elsewhere. */
export function describeInBrowser(title: string, body: (this: Mocha.Suite) => void): void {
  if (isExecutable(CHROMIUM_PATH)) {
    describe(title, body);
    return;
  }
  describe(title, function () {
    if (process.env.CI) {
      it('needs chromium', function () {
        throw new Error(`${CHROMIUM_PATH} is missing: under CI (CI=${process.env.CI}) the browser specs must run (apt-get install -y chromium)`);
      });
    } else {
      it(`skipped: ${CHROMIUM_PATH} is missing (apt-get install -y chromium; with CI set this fails)`);
    }
  });
}

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: the specs run as root in containers, where chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
