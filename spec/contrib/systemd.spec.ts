// contrib/flux.service and contrib/flux.env.example: the unit passes
// `systemd-analyze verify` where systemd is installed, runs `bin/flux serve` as a
// dedicated user with the usual hardening (and without MemoryDenyWriteExecute,
// which V8 and WebAssembly cannot run under), and the example environment file
// is a configuration Flux accepts.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { loadConfig, requireSecret, ROOT_DIR } from '../../lib/config/index.ts';

const UNIT = path.join(ROOT_DIR, 'contrib/flux.service');
const ENV_EXAMPLE = path.join(ROOT_DIR, 'contrib/flux.env.example');

/** section -> key -> values (a key may repeat); comments and blank lines skipped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      sections.set(header[1]!, (current = new Map()));
      continue;
    }
    const eq = line.indexOf('=');
    expect(eq, line).to.be.above(0);
    expect(current, `${line} before any section`).not.to.equal(undefined);
    const key = line.slice(0, eq).trim();
    current!.set(key, [...(current!.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

function systemdAnalyze(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

describe('contrib/flux.service (systemd)', function () {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service')!;
  const one = (key: string) => {
    expect(service.get(key), key).to.have.length(1);
    return service.get(key)![0]!;
  };

  it('runs `bin/flux serve` as the user flux with /etc/flux/flux.env, restarting on failure', function () {
    expect([...unit.keys()]).to.deep.equal(['Unit', 'Service', 'Install']);
    expect(one('ExecStart')).to.match(/^\/\S+\/bin\/flux serve$/);
    expect(one('User')).to.equal('flux');
    expect(one('Group')).to.equal('flux');
    expect(one('EnvironmentFile')).to.equal('/etc/flux/flux.env');
    expect(one('Restart')).to.equal('on-failure');
    expect(one('RestartPreventExitStatus'), 'invalid configuration exits 2: no restart loop').to.equal('2');
    expect(Number(one('TimeoutStopSec')), 'shutdown commits open batches within SHUTDOWN_MS_MAX (10 s)').to.be.above(10);
    expect(unit.get('Install')!.get('WantedBy')).to.deep.equal(['multi-user.target']);
  });

  it('is hardened: no privileges, a read-only system, only its data directory writable, only IP and Unix sockets', function () {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes', CapabilityBoundingSet: '', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes',
      ReadWritePaths: '/var/lib/flux', StateDirectory: 'flux', RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX', LockPersonality: 'yes',
      ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes', ProtectControlGroups: 'yes', RestrictNamespaces: 'yes', RestrictSUIDSGID: 'yes',
      SystemCallArchitectures: 'native',
    };
    for (const [key, value] of Object.entries(expected)) expect(one(key), key).to.equal(value);
  });

  it('leaves MemoryDenyWriteExecute off, and says why (V8 and WebAssembly write code and run it)', function () {
    expect(service.has('MemoryDenyWriteExecute')).to.equal(false);
    expect(readFileSync(UNIT, 'utf8')).to.match(/# MemoryDenyWriteExecute= stays off on purpose: V8's JIT and the WebAssembly/);
  });

  it('passes systemd-analyze verify (ExecStart pointed at this checkout\'s bin/flux)', async function () {
    const analyze = systemdAnalyze();
    if (analyze === null) {
      console.log('      (skipped: systemd-analyze is not installed here)');
      return this.skip();
    }
    // verify checks that ExecStart is executable, so a copy points at the real one.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-unit-'));
    try {
      const copy = path.join(dir, 'flux.service');
      writeFileSync(copy, readFileSync(UNIT, 'utf8').replace(/^ExecStart=\S+\/bin\/flux /m, `ExecStart=${path.join(ROOT_DIR, 'bin/flux')} `));
      const { stdout, stderr } = await promisify(execFile)(analyze, ['verify', copy], { timeout: 30_000 });
      // An unknown or malformed key is only a warning ("..., ignoring."): any line about this unit fails.
      const aboutUnit = `${stdout}${stderr}`.split('\n').filter((l) => l.includes(copy) || l.includes('flux.service'));
      expect(aboutUnit).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('contrib/flux.env.example', function () {
  const env = Object.fromEntries(readFileSync(ENV_EXAMPLE, 'utf8').split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

  it('is a configuration `flux serve` accepts', function () {
    const config = loadConfig(env);
    expect(() => requireSecret(config)).not.to.throw();
    expect(config.dataDir).to.equal('/var/lib/flux/data');
    expect(config.metricsHost).to.equal('127.0.0.1');
    expect(config.metricsPort).to.be.above(0);
  });

  it('names only variables the README documents, as plain KEY=value lines systemd reads', function () {
    const readme = readFileSync(path.join(ROOT_DIR, 'README.md'), 'utf8');
    for (const [name, value] of Object.entries(env)) {
      expect(name).to.match(/^[A-Z][A-Z0-9_]*$/);
      expect(readme, name).to.include(`| \`${name}\` |`);
      expect(value, name).not.to.match(/^["']|\$/);
    }
  });
});
