// The console page in a real browser (chromium at a phone's width, keyboard
// first): pick a nick, see the place, walk by typing and by clicking, recall a
// command, hear another player, meet a taken nick, and live through the XMPP
// server restarting. Each test leaves a screenshot in spec/web/screenshots/.
import { expect } from 'chai';
import { createTestDatabase, SERVER_KINDS, SERVER_NAMES, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { describeInBrowser, launchBrowser, PHONE_VIEWPORT, screenshot, type Browser, type Page } from '../support/browser.ts';

/** Bound on one thing appearing on the page. */
const SEE_MS_MAX = 10000;
/** Bound on the page finding its way back after the XMPP server restarted. */
const REJOIN_MS_MAX = 45000;

async function open(browser: Browser, world: World, query = ''): Promise<Page> {
  const context = await browser.newContext({ viewport: PHONE_VIEWPORT });
  const page = await context.newPage();
  await page.goto(`${world.web!.url}?world=realm${query}`);
  return page;
}

async function pickNick(page: Page, nick: string): Promise<void> {
  await page.locator('#nick').fill(nick);
  await page.keyboard.press('Enter');
}

const descriptions = (page: Page) => page.locator('#log .description');

/** Waits for a description after the first `seen` ones; its title. */
async function nextDescription(page: Page, seen: number): Promise<string> {
  await page.waitForFunction((n) => document.querySelectorAll('#log .description').length > n, seen, { timeout: SEE_MS_MAX });
  return (await descriptions(page).last().locator('.title').textContent()) ?? '';
}

async function exitButtons(page: Page): Promise<string[]> {
  return page.locator('#log .place').last().locator('button[data-kind="exit"]').allTextContents();
}

async function type(page: Page, command: string): Promise<void> {
  await page.keyboard.type(command); // the command line has the focus: no click first
  await page.keyboard.press('Enter');
}

async function logLine(page: Page, selector: string, text: string | RegExp): Promise<void> {
  await page.locator(`#log ${selector}`, { hasText: text }).last().waitFor({ timeout: SEE_MS_MAX }).catch(async (err: Error) => {
    throw new Error(`${err.message}\nthe page shows:\n${(await pageShows(page)).join('\n')}`);
  });
}

/** The status line and the last lines of the log: what a failed wait prints. */
function pageShows(page: Page): Promise<string[]> {
  return page.evaluate(() => [document.getElementById('status')!.textContent ?? '', ...[...document.querySelectorAll('#log > div')].slice(-8).map((d) => `${d.className}: ${d.textContent}`)]);
}

/** Waits for the status line to say Ada is back, then types `look` and expects its answer. */
async function expectLookWorks(page: Page): Promise<void> {
  await page.waitForFunction(() => /Online: Ada/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: REJOIN_MS_MAX }).catch(async (err: Error) => {
    throw new Error(`${err.message}\nthe page shows:\n${(await pageShows(page)).join('\n')}`);
  });
  await type(page, 'look');
  // The answer is a description after the typed `look` (the rejoin brings one of its own before).
  const answered = await page.waitForFunction(() => {
    const lines = [...document.querySelectorAll('#log > div')];
    const asked = lines.map((d) => d.classList.contains('cmd') && d.textContent === 'look').lastIndexOf(true);
    return lines.slice(asked + 1).find((d) => d.classList.contains('description'))?.querySelector('.title')?.textContent ?? false;
  }, null, { timeout: SEE_MS_MAX });
  expect(await answered.jsonValue()).to.equal('Town Square');
}

for (const server of SERVER_KINDS) describeInBrowser(`the console page in chromium (private ${SERVER_NAMES[server]})`, function () {
  let db: TestDatabase;
  let world: World;
  let browser: Browser;
  let ada: Page;

  before(async function () {
    db = await createTestDatabase('embedded');
    world = await startWorld(db, {}, server, { web: true });
    browser = await launchBrowser();
  });

  after(async function () {
    await browser?.close();
    await world?.stop();
    await db?.drop();
  });

  it('opens at the link, asks a nick, shows the place with its exits; north by typing, Up recalls it, an exit by a click', async function () {
    const startMs = Date.now();
    ada = await open(browser, world);
    await pickNick(ada, 'Ada');
    expect(await nextDescription(ada, 0)).to.equal('Town Square');
    const firstLookMs = Date.now() - startMs;
    console.log(`      (link opened -> first description: ${firstLookMs} ms)`);
    expect(await exitButtons(ada)).to.deep.equal(['north', 'east', 'south', 'west']);
    expect(await ada.getByRole('log').count()).to.equal(1);
    expect(await ada.locator('#status').textContent()).to.match(/Online: Ada in realm/);
    expect(await ada.evaluate(() => document.activeElement?.id)).to.equal('command');
    expect(await ada.locator('#nick-form').isVisible(), 'the name is asked no more').to.equal(false);

    await type(ada, 'north');
    await logLine(ada, '.cmd', /^north$/);
    expect(await nextDescription(ada, 1)).to.equal('North Gate');
    expect(await exitButtons(ada)).to.deep.equal(['north', 'south']);
    await ada.keyboard.press('ArrowUp');
    expect(await ada.locator('#command').inputValue()).to.equal('north');
    await ada.locator('#command').fill('');

    await ada.locator('#log .place').last().locator('button[data-kind="exit"]', { hasText: 'south' }).click();
    expect(await nextDescription(ada, 2)).to.equal('Town Square');
    expect(await ada.locator('#log .say').allTextContents(), 'commands come back reflected (XEP-0045 §7.4); the log shows each once, as typed').to.deep.equal([]);
    expect(await ada.evaluate(() => document.activeElement?.id), 'a click leaves the focus on the command line').to.equal('command');
    await screenshot(ada, `${server}-play`);
  });

  it('remembers the nick and the commands across a reload, each command once', async function () {
    await ada.reload();
    expect(await ada.locator('#nick').inputValue()).to.equal('Ada');
    await ada.keyboard.press('Enter');
    await nextDescription(ada, 0);
    await type(ada, 'north'); // typed again: it moves to the newest place in the history, and is there once
    await nextDescription(ada, 1);
    const recalled: string[] = [];
    for (let i = 0; i < 3; i++) {
      await ada.keyboard.press('ArrowUp');
      recalled.push(await ada.locator('#command').inputValue());
    }
    expect(recalled).to.deep.equal(['north', 'south', 'south']);
    await ada.locator('#command').fill('');
    await type(ada, 's');
    await nextDescription(ada, 2);
  });

  it('shows two players each other\'s words, whispers and their own commands differently', async function () {
    const bea = await open(browser, world);
    await pickNick(bea, 'Bea');
    expect(await nextDescription(bea, 0)).to.equal('Town Square');
    await logLine(ada, '> div', /Bea has entered the world/);
    await type(bea, 'say hello from Bea');
    await logLine(ada, '.say', 'hello from Bea');
    expect(await ada.locator('#log .say').last().locator('.who').textContent()).to.equal('Bea:');
    await type(ada, 'whisper Bea psst, Ada here');
    await logLine(bea, '.whisper', 'psst, Ada here');
    await logLine(bea, '.cmd', 'say hello from Bea');
    const colours = await bea.evaluate(() => ['.cmd', '.say', '.whisper', '.description'].map((s) => getComputedStyle(document.querySelector(`#log ${s}`)!).color));
    expect(new Set(colours).size, `colours ${colours.join(' ')}`).to.equal(4);

    // Scrolled up, new lines do not pull the reader down; a marker says they are there.
    for (let i = 0; i < 4; i++) await type(ada, 'help');
    await ada.waitForFunction(() => document.querySelectorAll('#log .world').length >= 6);
    await ada.evaluate(() => document.getElementById('log')!.scrollTo(0, 0));
    await type(bea, 'say are you there?');
    await logLine(ada, '.say', 'are you there?');
    await ada.locator('#below').waitFor({ state: 'visible', timeout: SEE_MS_MAX });
    expect(await ada.evaluate(() => document.getElementById('log')!.scrollTop)).to.equal(0);
    await ada.locator('#below').click();
    await ada.locator('#below').waitFor({ state: 'hidden', timeout: SEE_MS_MAX });
    await screenshot(bea, `${server}-two-players`);
    await bea.context().close();
  });

  it('says clearly when a nick is taken, and a second try works', async function () {
    const cid = await open(browser, world);
    await pickNick(cid, 'Ada');
    await logLine(cid, '.error', /The name "Ada" is taken by another player/);
    expect(await cid.locator('#nick-form').isVisible(), 'the name is asked again').to.equal(true);
    expect(await cid.locator('#command-form').isVisible()).to.equal(false);
    await cid.locator('#nick').fill('Cid');
    await cid.keyboard.press('Enter');
    expect(await nextDescription(cid, 0)).to.equal('Town Square');
    expect(await cid.locator('#nick-form').isVisible()).to.equal(false);
    await screenshot(cid, `${server}-nick-taken`);
    await cid.context().close();
  });

  it('keeps a bounded scrollback: past its lines, the oldest go', async function () {
    const LINES = 12;
    const dee = await open(browser, world, `&logLines=${LINES}`);
    await pickNick(dee, 'Dee');
    await nextDescription(dee, 0);
    for (let i = 0; i < 8; i++) await type(dee, `say line ${i}`);
    await logLine(dee, '.say', 'line 7');
    expect(await dee.locator('#log > div').count()).to.equal(LINES);
    expect(await dee.locator('#log .description').count(), 'the first description scrolled out').to.equal(0);
    await dee.context().close();
  });

  it('rejoins by itself after the XMPP server restarts, and look works', async function () {
    this.timeout(REJOIN_MS_MAX + 30000);
    await world.xmpp.restart();
    await logLine(ada, '.info', /Connection lost/);
    await expectLookWorks(ada);
    await screenshot(ada, `${server}-rejoined`);
  });

  it('rejoins by itself after Flux restarts behind a live connection (status 332), and look works', async function () {
    this.timeout(REJOIN_MS_MAX + 30000);
    await world.restartFlux();
    await logLine(ada, '.info', /The world is restarting/);
    await expectLookWorks(ada);
  });
});
