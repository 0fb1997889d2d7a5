// lib/web/build: the console page as `npm run build` makes it, and as the demo installs it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { expect } from 'chai';
import { buildPage, installPage, PAGE_FILES } from '../../lib/web/index.ts';

describe('web buildPage and installPage', function () {
  let dir: string;

  before(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flux-web-'));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('compiles the page into one classic script in its own scope, beside the HTML, the CSS and xmpp.js', async function () {
    const out = await buildPage(path.join(dir, 'build'));
    const script = readFileSync(path.join(out, 'console.js'), 'utf8');
    expect(() => new vm.Script(script), 'a classic script: no import or export left').to.not.throw();
    expect(script).to.not.match(/^\s*(export|import)\b/m);
    expect(script, 'types are gone').to.not.match(/\binterface\s+XmlElement\b/);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts, 'xmpp.js first: the page uses its global').to.deep.equal(['xmpp.min.js', 'console.js']);
    expect(readFileSync(path.join(out, 'xmpp.min.js'), 'utf8')).to.match(/^var XMPP=/);
  });

  it('installs the built files with a config.json saying where to connect', async function () {
    const config = { websocket: '/xmpp-websocket', domain: 'guest.example.org', mucDomain: 'game.example.org', login: 'register' } as const;
    await installPage(path.join(dir, 'site'), config, path.join(dir, 'build'));
    for (const file of PAGE_FILES) expect(readFileSync(path.join(dir, 'site', file)).length, file).to.be.above(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'site', 'config.json'), 'utf8'))).to.deep.equal(config);
  });
});
