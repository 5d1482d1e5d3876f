import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { main } from '../../server/cli/main.js';
import { memoryIO } from '../../server/cli/io.js';
import { isLoopback, startServer } from '../../server/cli/serve.js';

describe('kubelab serve', () => {
  it('listens on loopback by default, on the port asked for (0 = any), and answers only loopback names', async () => {
    const running = await startServer({ port: 0, dbPath: ':memory:', mode: 'simulated' });
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(running.url);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('Labs');
      const port = Number(new URL(running.url).port);
      // fetch() will not send a made-up Host header; node:http will, like a rebinding attacker's browser.
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = get(
          { host: '127.0.0.1', port, path: '/api/labs', headers: { Host: `evil.example:${port}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode);
          },
        );
        req.on('error', reject);
      });
      expect(status).toBe(403);
    } finally {
      await running.close();
    }
  });

  it('a port in use is a clear error', async () => {
    const first = await startServer({ port: 0, dbPath: ':memory:', mode: 'simulated' });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startServer({ port, dbPath: ':memory:', mode: 'simulated' })).rejects.toThrow(
        `port ${port} on 127.0.0.1 is already in use`,
      );
    } finally {
      await first.close();
    }
  });

  it('refuses a bad --port and conflicting modes as usage errors', async () => {
    const io = memoryIO();
    expect(await main(['serve', '--port', 'eighty'], io)).toBe(2);
    expect(io.stderrText()).toContain('--port must be a number');
    const io2 = memoryIO();
    expect(await main(['serve', '--simulated', '--kube'], io2)).toBe(2);
    expect(io2.stderrText()).toContain('choose one of --simulated and --kube');
  });

  it('knows which hosts are loopback', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('192.168.1.4')).toBe(false);
  });
});

describe('kubelab serve with a broken progress database', () => {
  it('a file that is not a database is an environment problem (exit 3) with what to do, not a bug', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'kubelab-db-'));
    try {
      const db = join(dir, 'kubelab.db');
      writeFileSync(
        db,
        'this is not an SQLite file, just some text that is long enough to look like one.\n'.repeat(4),
      );
      const io = memoryIO();
      expect(await main(['serve', '--simulated', '--port', '0', '--db', db], io)).toBe(3);
      expect(io.stderrText()).toContain('cannot open the progress database');
      expect(io.stderrText()).toContain('Pass a writable path with --db');
      expect(io.stderrText()).not.toContain('bug');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
