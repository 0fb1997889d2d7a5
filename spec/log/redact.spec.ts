// lib/log: secrets never reach the log. Values under secret-named keys
// are censored; the password of a URL (a DATABASE_URL in an error's message, its
// stack, an object, a child logger's bindings) is masked in the written line.
import { expect } from 'chai';
import { createLogger, maskCredentials, REDACTED, type Logger } from '../../lib/log/index.ts';

const SECRETS = ['hunter2', 'component-s3cret', 'env-s3cret', 'nested-s3cret', 'pg-config-pw', 'p@ss\\"w0rd', 'deep-pw'];

function captured(): { log: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const log = createLogger('debug', false, { write: (s: string) => { chunks.push(s); } });
  return { log, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

describe('log redaction (lib/log)', function () {
  it('censors secret-named keys at the top of an object and below it', function () {
    const { log, lines } = captured();
    log.info({
      password: 'hunter2', FLUX_XMPP_SECRET: 'env-s3cret', secret: 'component-s3cret',
      config: { xmppSecret: 'component-s3cret', password: 'hunter2', xmppDomain: 'game.localhost' },
      env: { FLUX_XMPP_SECRET: 'env-s3cret' }, server: { options: { componentSecret: 'nested-s3cret', password: 'deep-pw' } },
    }, 'starting');
    const [line] = lines();
    for (const s of SECRETS) expect(line, s).not.to.include(s);
    const entry = JSON.parse(line!);
    expect(entry.config).to.deep.equal({ xmppSecret: REDACTED, password: REDACTED, xmppDomain: 'game.localhost' });
    expect(entry.password).to.equal(REDACTED);
    expect(entry.msg).to.equal('starting');
  });

  it('masks the password of a DATABASE_URL in an error, its stack and its client config, keeping user and host', function () {
    const { log, lines } = captured();
    const url = 'postgres://flux:hunter2@db.internal:5432/flux';
    const err = Object.assign(new Error(`cannot connect to ${url}`), { config: { password: 'pg-config-pw', connectionString: url, host: 'db.internal' } });
    log.error({ err }, 'opening the database');
    log.error(err); // pino takes the message from the error itself
    log.warn({ databaseUrl: 'postgresql://flux:p@ss"w0rd@db.internal/flux?sslmode=require' }, `retrying ${url}`);
    log.child({ url }).info('child bindings too');
    const all = lines();
    expect(all).to.have.length(4);
    for (const line of all) {
      for (const s of SECRETS) expect(line, s).not.to.include(s);
      expect(line).not.to.include('w0rd');
      expect(() => JSON.parse(line), line).not.to.throw();
    }
    const first = JSON.parse(all[0]!);
    expect(first.err.message).to.equal('cannot connect to postgres://flux:***@db.internal:5432/flux');
    expect(first.err.stack).to.include('postgres://flux:***@db.internal:5432/flux');
    expect(first.err.config).to.deep.equal({ password: REDACTED, connectionString: REDACTED, host: 'db.internal' });
    expect(JSON.parse(all[1]!).msg).to.equal('cannot connect to postgres://flux:***@db.internal:5432/flux');
    expect(JSON.parse(all[2]!).databaseUrl).to.equal('postgresql://flux:***@db.internal/flux?sslmode=require');
    expect(JSON.parse(all[3]!).url).to.equal('postgres://flux:***@db.internal:5432/flux');
  });

  it('leaves URLs without a password and nearby JIDs alone', function () {
    const { log, lines } = captured();
    log.info({ service: 'xmpp://127.0.0.1:5347', jid: 'bob@localhost', db: 'postgres://flux@db/flux', v6: 'postgres://[::1]:5432/flux' }, 'mail me: x@y.org');
    const entry = JSON.parse(lines()[0]!);
    expect(entry).to.include({ service: 'xmpp://127.0.0.1:5347', jid: 'bob@localhost', db: 'postgres://flux@db/flux', v6: 'postgres://[::1]:5432/flux', msg: 'mail me: x@y.org' });
  });

  it('maskCredentials masks every URL in a text, to the last @ of its authority', function () {
    expect(maskCredentials('a postgres://u:pw@h/d and amqp://x:y@z b')).to.equal('a postgres://u:***@h/d and amqp://x:***@z b');
    expect(maskCredentials('postgres://:only@h')).to.equal('postgres://:***@h');
    expect(maskCredentials('postgres://u:a@b@h/d')).to.equal('postgres://u:***@h/d');
  });
});
