import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Credentials } from './credentials.js';

describe('Credentials', () => {
  it('reads a token file again after a minute, when the kubelet may have rotated it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'token-')), 'token');
    writeFileSync(path, 'first\n');
    let now = 0;
    const credentials = new Credentials({ kind: 'token-file', path }, () => now);
    expect(await credentials.authorization()).toBe('Bearer first');
    writeFileSync(path, 'second\n');
    now = 59_000;
    expect(await credentials.authorization()).toBe('Bearer first');
    now = 60_000;
    expect(await credentials.authorization()).toBe('Bearer second');
  });

  it('keeps the token read last while the file cannot be read again, until the API server refuses it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'token-')), 'token');
    writeFileSync(path, 'first\n');
    let now = 0;
    const credentials = new Credentials({ kind: 'token-file', path }, () => now);
    expect(await credentials.authorization()).toBe('Bearer first');
    // The kubelet swapping the file: gone for a moment, then empty.
    rmSync(path);
    now = 60_000;
    expect(await credentials.authorization()).toBe('Bearer first');
    writeFileSync(path, '');
    now = 65_000;
    expect(await credentials.authorization()).toBe('Bearer first');
    // Tried again within seconds, not a minute.
    writeFileSync(path, 'second\n');
    now = 70_000;
    expect(await credentials.authorization()).toBe('Bearer second');
    // A refused token is never used again, even while the file cannot be read.
    rmSync(path);
    credentials.invalidate();
    await expect(credentials.authorization()).rejects.toThrow(/ENOENT/);
  });

  it('runs an exec plugin once, keeps its token until shortly before its expiry, and again after a 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-'));
    const counter = join(dir, 'runs');
    writeFileSync(counter, '');
    // The plugin appends a line per run, and answers with a token naming the run and the env it got.
    const plugin = join(dir, 'plugin.cjs');
    writeFileSync(
      plugin,
      `const fs = require('fs'); fs.appendFileSync(${JSON.stringify(counter)}, 'x');
       const runs = fs.readFileSync(${JSON.stringify(counter)}, 'utf8').length;
       const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
       process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential',
         status: { token: 'run' + runs + '-' + process.env.PROFILE, expirationTimestamp: '1970-01-01T00:10:00Z' } }));`,
    );
    let now = 0;
    const credentials = new Credentials(
      {
        kind: 'exec',
        exec: {
          command: process.execPath,
          args: [plugin],
          env: [{ name: 'PROFILE', value: 'p' }],
          apiVersion: 'client.authentication.k8s.io/v1',
          cwd: dir,
        },
      },
      () => now,
    );
    const [a, b] = await Promise.all([credentials.authorization(), credentials.authorization()]);
    expect([a, b]).toEqual(['Bearer run1-p', 'Bearer run1-p']);
    now = 9 * 60_000;
    expect(await credentials.authorization()).toBe('Bearer run1-p');
    now = 10 * 60_000 - 29_000;
    expect(await credentials.authorization()).toBe('Bearer run2-p');
    credentials.invalidate();
    expect(await credentials.authorization()).toBe('Bearer run3-p');
  });

  it('says which plugin failed and what it printed', async () => {
    const credentials = new Credentials({
      kind: 'exec',
      exec: {
        command: process.execPath,
        args: ['-e', 'console.error("no profile"); process.exit(3)'],
        env: [],
        apiVersion: 'v1',
        cwd: '/',
      },
    });
    await expect(credentials.authorization()).rejects.toThrow(/exec credential plugin .* failed: no profile/);
  });
});
