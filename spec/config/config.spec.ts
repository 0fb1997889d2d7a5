// lib/config: defaults, environment overrides, and the one-line refusal of bad
// configuration (DESIGN §2) - in process and through bin/flux.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, peerListenAddress, readDefaults, requireSecret, ROOT_DIR, type Config } from '../../lib/config/index.ts';
import { ConfigError, FluxError } from '../../lib/errors.ts';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    expect(err).to.be.instanceOf(FluxError);
    return err as ConfigError;
  }
  expect.fail('expected a ConfigError');
}

describe('config', function () {
  describe('loadConfig', function () {
    it('loads config/default.json with numbers as numbers when the environment is empty', function () {
      const defaults = readDefaults();
      const config = loadConfig({});
      for (const [key, value] of Object.entries(defaults)) {
        expect(config[key as keyof Config], key).to.equal(value);
      }
      expect(config.tickMs).to.be.a('number');
      expect(config.engine).to.be.oneOf(['wasm', 'js']);
    });

    it('takes defaults from the file it is given', function () {
      const config = loadConfig({}, { ...readDefaults(), tickMs: 75, xmppDomain: 'Play.Example.ORG' });
      expect(config.tickMs).to.equal(75);
      expect(config.xmppDomain).to.equal('play.example.org');
    });

    const overrides: [string, string, keyof Config, unknown][] = [
      ['FLUX_XMPP_SERVICE', 'xmpp://xmpp.example.org:5275', 'xmppService', 'xmpp://xmpp.example.org:5275'],
      ['FLUX_XMPP_DOMAIN', 'Worlds.Example.org', 'xmppDomain', 'worlds.example.org'],
      ['FLUX_XMPP_SECRET', 's3cret', 'xmppSecret', 's3cret'],
      ['DATABASE_URL', 'postgres://u:p@db:5432/flux', 'databaseUrl', 'postgres://u:p@db:5432/flux'],
      ['DATABASE_URL', 'postgresql://db/flux', 'databaseUrl', 'postgresql://db/flux'],
      ['FLUX_DATA_DIR', '/var/lib/flux', 'dataDir', '/var/lib/flux'],
      ['FLUX_TICK_MS', '20', 'tickMs', 20],
      ['FLUX_TICK_MS', ' 35 ', 'tickMs', 35],
      ['FLUX_BATCH_MAX', '64', 'batchCommandsMax', 64],
      ['FLUX_ENGINE', 'js', 'engine', 'js'],
      ['LOG_LEVEL', 'debug', 'logLevel', 'debug'],
      ['FLUX_COMMANDS_PER_S', '3', 'commandsPerS', 3],
      ['FLUX_BODY_BYTES_MAX', '4096', 'bodyBytesMax', 4096],
      ['FLUX_OCCUPANTS_MAX', '42', 'occupantsMax', 42],
      ['FLUX_WORLDS_DIR', '/etc/flux/worlds', 'worldsDir', '/etc/flux/worlds'],
      ['FLUX_GUEST_DOMAINS', ' Guest.Example.org, anon.localhost,guest.example.org ', 'guestDomains', ['guest.example.org', 'anon.localhost']],
      ['FLUX_GUEST_RELEASE_S', '2', 'guestReleaseS', 2],
      ['FLUX_METRICS_HOST', '0.0.0.0', 'metricsHost', '0.0.0.0'],
      ['FLUX_HEARTBEAT_MS', '500', 'heartbeatMs', 500],
      ['FLUX_METRICS_HOST', '::1', 'metricsHost', '::1'],
      ['FLUX_METRICS_HOST', ' 10.0.0.7 ', 'metricsHost', '10.0.0.7'],
      ['FLUX_METRICS_HOST', 'metrics.internal', 'metricsHost', 'metrics.internal'],
      ['FLUX_PEER_LISTEN', 'off', 'peerListen', 'off'],
      ['FLUX_XMPP_SERVICE', 'xmpp://node1:5347, xmpp://node2:5347', 'xmppService', 'xmpp://node1:5347,xmpp://node2:5347'],
      ['FLUX_PEER_SECRET', 'link-s3cret', 'peerSecret', 'link-s3cret'],
    ];
    for (const [name, value, key, expected] of overrides) {
      it(`${name}=${JSON.stringify(value)} sets ${key} to ${JSON.stringify(expected)}`, function () {
        const config = loadConfig({ [name]: value });
        expect(config[key]).to.deep.equal(expected);
        expect(typeof config[key]).to.equal(typeof expected);
        // Only that setting moved.
        const base = loadConfig({});
        for (const other of Object.keys(base) as (keyof Config)[]) {
          if (other !== key) expect(config[other], other).to.deep.equal(base[other]);
        }
      });
    }

    it('has no guest domains unless told, and releases guests 300 s after they leave', function () {
      expect(loadConfig({}).guestDomains).to.deep.equal([]);
      expect(loadConfig({}).guestReleaseS).to.equal(300);
    });

    it('binds the metrics port to 127.0.0.1 unless told (an open /metrics tells strangers about the players)', function () {
      expect(loadConfig({}).metricsHost).to.equal('127.0.0.1');
      expect(loadConfig({}, { ...readDefaults(), metricsHost: undefined }).metricsHost).to.equal('127.0.0.1');
    });

    it('ignores an empty environment variable (the default stays)', function () {
      expect(loadConfig({ FLUX_TICK_MS: '' }).tickMs).to.equal(loadConfig({}).tickMs);
    });

    const invalid: [string, string][] = [
      ['FLUX_TICK_MS', 'abc'],
      ['FLUX_TICK_MS', '1.5'],
      ['FLUX_TICK_MS', '0'],
      ['FLUX_TICK_MS', '-10'],
      ['FLUX_TICK_MS', '60001'],
      ['FLUX_TICK_MS', '10ms'],
      ['FLUX_ENGINE', 'gpu'],
      ['FLUX_XMPP_SERVICE', 'http://x'],
      ['FLUX_XMPP_SERVICE', 'xmpp://host'],
      ['FLUX_XMPP_SERVICE', 'xmpp://node1:5347,http://node2:5347'],
      ['FLUX_XMPP_SERVICE', 'not a url'],
      ['DATABASE_URL', 'mysql://'],
      ['FLUX_XMPP_DOMAIN', 'bad domain'],
      ['FLUX_XMPP_DOMAIN', '-game.localhost'],
      ['FLUX_BATCH_MAX', '0'],
      ['FLUX_BATCH_MAX', '999999'],
      ['LOG_LEVEL', 'loud'],
      ['FLUX_COMMANDS_PER_S', '0'],
      ['FLUX_BODY_BYTES_MAX', '1'],
      ['FLUX_OCCUPANTS_MAX', 'many'],
      ['FLUX_GUEST_DOMAINS', 'guest.example.org,not a domain'],
      ['FLUX_GUEST_DOMAINS', Array.from({ length: 65 }, (_, i) => `g${i}.example.org`).join(',')],
      ['FLUX_GUEST_RELEASE_S', '0'],
      ['FLUX_GUEST_RELEASE_S', '5m'],
      ['FLUX_METRICS_HOST', '127.0.0.1:9100'],
      ['FLUX_METRICS_HOST', 'http://127.0.0.1'],
      ['FLUX_METRICS_HOST', '999.0.0.1'],
      ['FLUX_METRICS_HOST', 'two words'],
      ['FLUX_PEER_LISTEN', '10.0.0.5'],
      ['FLUX_PEER_LISTEN', '10.0.0.5:99999'],
      ['FLUX_PEER_LISTEN', 'two words:7400'],
    ];
    for (const [name, value] of invalid) {
      it(`refuses ${name}=${JSON.stringify(value)} with a ConfigError naming ${name}`, function () {
        const err = configError(() => loadConfig({ [name]: value }));
        expect(err.message).to.include(name);
        // DATABASE_URL may carry a password: only its scheme is echoed.
        expect(err.message).to.include(name === 'DATABASE_URL' ? value.split(':')[0]! : JSON.stringify(value));
        expect(err.message).not.to.include('\n');
      });
    }

    it('links instances on loopback with PostgreSQL, not with the embedded database, and where told', function () {
      const pg = 'postgres://db/flux';
      expect(peerListenAddress(loadConfig({ DATABASE_URL: pg }))).to.equal('127.0.0.1:0');
      expect(peerListenAddress(loadConfig({}))).to.equal(null);
      expect(peerListenAddress(loadConfig({ DATABASE_URL: pg, FLUX_PEER_LISTEN: 'off' }))).to.equal(null);
      expect(peerListenAddress(loadConfig({ DATABASE_URL: pg, FLUX_PEER_LISTEN: '10.0.0.5:7400' }))).to.equal('10.0.0.5:7400');
      expect(configError(() => loadConfig({ FLUX_PEER_LISTEN: '10.0.0.5:7400' })).message).to.match(/FLUX_PEER_LISTEN needs DATABASE_URL/);
    });

    it('never repeats the password of a refused DATABASE_URL', function () {
      const err = configError(() => loadConfig({ DATABASE_URL: 'mysql://flux:hunter2@db/flux' }));
      expect(err.message).to.include('DATABASE_URL');
      expect(err.message).not.to.include('hunter2');
    });

    it('refuses a default file value of the wrong type, naming the variable that sets it', function () {
      const err = configError(() => loadConfig({}, { ...readDefaults(), tickMs: 'soon' }));
      expect(err.message).to.include('FLUX_TICK_MS');
    });

    it('needs a data directory when there is no DATABASE_URL', function () {
      const err = configError(() => loadConfig({}, { ...readDefaults(), dataDir: '', databaseUrl: '' }));
      expect(err.message).to.include('FLUX_DATA_DIR');
      expect(loadConfig({ DATABASE_URL: 'postgres://db/flux' }, { ...readDefaults(), dataDir: '' }).dataDir).to.equal('');
    });

    it('reports a missing defaults file as a ConfigError naming it', function () {
      const file = path.join(os.tmpdir(), 'flux-no-such-config.json');
      const err = configError(() => readDefaults(file));
      expect(err.message).to.include(file);
    });
  });

  describe('requireSecret', function () {
    it('refuses an empty component secret, naming FLUX_XMPP_SECRET', function () {
      const config = loadConfig({}, { ...readDefaults(), xmppSecret: '' });
      const err = configError(() => requireSecret(config));
      expect(err.message).to.include('FLUX_XMPP_SECRET');
    });

    it('accepts a set secret', function () {
      expect(() => requireSecret(loadConfig({ FLUX_XMPP_SECRET: 'x' }))).not.to.throw();
    });
  });

  describe('bin/flux serve with FLUX_TICK_MS=abc', function () {
    let server: net.Server;
    let port = 0;
    let connections = 0;
    let dir = '';

    before(async function () {
      dir = mkdtempSync(path.join(os.tmpdir(), 'flux-config-spec-'));
      server = net.createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
    });

    after(async function () {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    });

    it('exits with code 2 and one line on stderr naming FLUX_TICK_MS, before connecting anywhere', async function () {
      this.timeout(30000);
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.DATABASE_URL;
      Object.assign(env, {
        FLUX_TICK_MS: 'abc',
        FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${port}`,
        FLUX_XMPP_SECRET: 'secret',
        FLUX_DATA_DIR: path.join(dir, 'data'),
        LOG_LEVEL: 'info',
      });
      const child = spawn(path.join(ROOT_DIR, 'bin/flux'), ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const startedMs = Date.now();
      const code = await new Promise<number | null>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 20000);
        child.on('exit', (c) => {
          clearTimeout(kill);
          resolve(c);
        });
      });
      const tookMs = Date.now() - startedMs;
      expect(code, `stderr: ${stderr}`).to.equal(2);
      const lines = stderr.split('\n').filter((l) => l !== '');
      expect(lines, stderr).to.have.length(1);
      expect(lines[0]).to.include('FLUX_TICK_MS');
      expect(stderr.endsWith('\n')).to.equal(true);
      expect(stdout).to.equal('');
      expect(connections, 'connections to the XMPP service').to.equal(0);
      expect(existsSync(path.join(dir, 'data')), 'embedded database directory created').to.equal(false);
      expect(tookMs).to.be.below(15000);
    });
  });
});
