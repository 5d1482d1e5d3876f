/**
 * The Calico manifest download honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY as curl and kubectl do.
 * Real HTTP over loopback: a file server, and a proxy that tunnels CONNECT (and relays
 * absolute-form requests) while recording what went through it.
 */
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpDownloadFor, proxySettings } from '../../server/cluster/calico.js';

const BODY = 'kind: List\n# a manifest\n';
let files: Server;
let proxy: Server;
let fileUrl: string;
let proxyUrl: string;
const proxied: string[] = [];

const port = (s: Server) => (s.address() as AddressInfo).port;

beforeAll(async () => {
  files = createServer((req, res) => {
    if (req.url === '/calico.yaml') res.end(BODY);
    else res.writeHead(404).end('no');
  });
  proxy = createServer((req, res) => {
    // Absolute-form request (a proxy that is not tunnelling).
    proxied.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = request(
      { host: target.hostname, port: target.port, path: target.pathname, method: req.method },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  proxy.on('connect', (req, socket, head) => {
    proxied.push(`CONNECT ${req.url}`);
    const [host, p] = (req.url ?? '').split(':');
    const upstream = connect(Number(p), host!, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  files.listen(0, '127.0.0.1');
  proxy.listen(0, '127.0.0.1');
  await Promise.all([once(files, 'listening'), once(proxy, 'listening')]);
  fileUrl = `http://127.0.0.1:${port(files)}/calico.yaml`;
  proxyUrl = `http://127.0.0.1:${port(proxy)}`;
});

afterAll(() => {
  files.closeAllConnections();
  proxy.closeAllConnections();
  files.close();
  proxy.close();
});

describe('proxySettings', () => {
  it('reads the variables curl reads, lower case first, ALL_PROXY as the fallback', () => {
    expect(proxySettings({})).toEqual({});
    expect(
      proxySettings({
        HTTPS_PROXY: 'http://up:1',
        https_proxy: 'http://low:1',
        NO_PROXY: '.corp,10.0.0.0/8',
      }),
    ).toEqual({ httpsProxy: 'http://low:1', noProxy: '.corp,10.0.0.0/8' });
    expect(proxySettings({ ALL_PROXY: 'http://all:3', HTTP_PROXY: 'http://h:2' })).toEqual({
      httpProxy: 'http://h:2',
      httpsProxy: 'http://all:3',
    });
    expect(proxySettings({ HTTPS_PROXY: '' })).toEqual({});
  });
});

describe('httpDownloadFor', () => {
  it('goes through the proxy named in the environment', async () => {
    proxied.length = 0;
    const data = await httpDownloadFor({ HTTP_PROXY: proxyUrl })(fileUrl);
    expect(data.toString()).toBe(BODY);
    expect(proxied.length).toBe(1);
    expect(proxied[0]).toMatch(new RegExp(`127\\.0\\.0\\.1:${port(files)}`));
  });

  it('goes direct for hosts NO_PROXY lists, and without proxy variables', async () => {
    proxied.length = 0;
    expect((await httpDownloadFor({ http_proxy: proxyUrl, no_proxy: '127.0.0.1' })(fileUrl)).toString()).toBe(
      BODY,
    );
    expect((await httpDownloadFor({})(fileUrl)).toString()).toBe(BODY);
    expect(proxied).toEqual([]);
  });

  it("reads only the injected environment, never this process's", async () => {
    proxied.length = 0;
    const saved = process.env.http_proxy;
    process.env.http_proxy = proxyUrl;
    try {
      await httpDownloadFor({})(fileUrl);
    } finally {
      if (saved === undefined) delete process.env.http_proxy;
      else process.env.http_proxy = saved;
    }
    expect(proxied).toEqual([]);
  });

  it('a proxy that does not answer is named in the error, without its password', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = port(closed);
    const dead = `http://user:secret@127.0.0.1:${deadPort}`;
    closed.close();
    await once(closed, 'close');
    const err = (await httpDownloadFor({ HTTP_PROXY: dead })(fileUrl).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(`proxy http://user:***@127.0.0.1:${deadPort}`);
    expect(err.message).not.toContain('secret');
  });

  it('an HTTP error status is an error with the status', async () => {
    await expect(httpDownloadFor({})(fileUrl.replace('calico.yaml', 'missing'))).rejects.toThrow('HTTP 404');
  });
});
