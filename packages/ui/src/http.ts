/**
 * The UI process's web server: the page and its assets over HTTP, and the browsers'
 * connections over WebSocket (`/ws`), each handed to the bridge.
 *
 * Access: the page is public (it holds no data), the WebSocket is not. A browser must present
 * the random token from the URL the process prints (`#token=...`; a fragment never reaches
 * server logs or Referer headers), and its Origin must be this server, so another web site
 * open in the same browser cannot drive the emulator (whose monitor can write files).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type WebSocket, WebSocketServer } from 'ws';
import type { UiBridge } from './bridge.js';
import { UiError } from './link.js';

const here = dirname(fileURLToPath(import.meta.url));
/** packages/ui, from dist/ (built) or src/ (tests). */
const packageRoot = join(here, '..');

/** Port tried first when none is given; the next ones follow when it is taken. */
export const DEFAULT_PORT = 5174;
const PORT_TRIES = 10;

/** The largest message a browser may send (a firmware file to flash, base64-encoded). */
const MAX_BROWSER_MESSAGE = 16 * 1024 * 1024;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** URL path → file, for everything the page loads. */
function assetTable(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const xterm = dirname(require.resolve('@xterm/xterm/package.json'));
  const fit = dirname(require.resolve('@xterm/addon-fit/package.json'));
  const page = join(packageRoot, 'dist', 'page');
  const statics = join(packageRoot, 'static');
  return new Map([
    ['/', join(statics, 'index.html')],
    ['/index.html', join(statics, 'index.html')],
    ['/style.css', join(statics, 'style.css')],
    ['/favicon.svg', join(statics, 'favicon.svg')],
    ['/app/main.js', join(page, 'main.js')],
    ['/app/board.js', join(page, 'board.js')],
    ['/app/protocol.js', join(page, 'protocol.js')],
    ['/vendor/xterm.js', join(xterm, 'lib', 'xterm.js')],
    ['/vendor/xterm.css', join(xterm, 'css', 'xterm.css')],
    ['/vendor/addon-fit.js', join(fit, 'lib', 'addon-fit.js')],
  ]);
}

export interface WebServerOptions {
  bridge: UiBridge;
  /** Address to listen on (default 127.0.0.1). */
  addr?: string;
  /** Port (0: any free one; undefined: DEFAULT_PORT or one of the next few). */
  port?: number;
  /** The access token (default: a fresh random one). */
  token?: string;
}

export interface WebServer {
  readonly url: string;
  readonly token: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const assets = assetTable();
  const token = options.token ?? randomBytes(16).toString('hex');
  const addr = options.addr ?? '127.0.0.1';
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BROWSER_MESSAGE });
  const server = createServer((req, res) => {
    void serveAsset(assets, req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || sameHost(origin, req.headers.host);
    if (url.pathname !== '/ws' || url.searchParams.get('token') !== token || !sameOrigin) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(options.bridge, ws));
  });
  const port = await listen(server, addr, options.port);
  const shownHost = addr.includes(':') ? `[${addr}]` : addr === '0.0.0.0' ? '127.0.0.1' : addr;
  return {
    url: `http://${shownHost}:${port}/#token=${token}`,
    token,
    port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function attach(bridge: UiBridge, ws: WebSocket): void {
  const handle = bridge.addBrowser({
    send: (text) => {
      if (ws.readyState === ws.OPEN) ws.send(text);
    },
    close: () => ws.close(1001, 'the emulator has gone'),
  });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) handle.receive(data.toString());
  });
  ws.on('close', () => handle.closed());
  ws.on('error', () => handle.closed());
}

async function serveAsset(
  assets: Map<string, string>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const file = assets.get(path);
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !file) {
    res.writeHead(file ? 405 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(file ? 'method not allowed\n' : 'not found\n');
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`missing ${path} (is @tsemu/ui built?)\n`);
    return;
  }
  const ext = file.slice(file.lastIndexOf('.'));
  res.writeHead(200, {
    'Content-Type': TYPES[ext] ?? 'application/octet-stream',
    'Content-Length': body.length,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    // xterm.js styles its elements from script; everything else comes from this server.
    'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Listens on `port`, or (when undefined) on DEFAULT_PORT or the next free one. */
async function listen(server: Server, addr: string, port: number | undefined): Promise<number> {
  const tries =
    port === undefined ? Array.from({ length: PORT_TRIES }, (_, i) => DEFAULT_PORT + i).concat(0) : [port];
  for (const p of tries) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(p, addr, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE' && port === undefined) continue;
      const why =
        err.code === 'EADDRINUSE'
          ? 'it is in use'
          : err.code === 'EADDRNOTAVAIL'
            ? 'no such address here'
            : err.message;
      throw new UiError(`cannot listen on ${addr}:${p}: ${why}`);
    }
  }
  throw new UiError(`cannot listen on ${addr}: no free port`);
}
