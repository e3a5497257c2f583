/**
 * `@tsemu/ui`: the web UI process of tsemu. `runUi(options)` connects to an emulator (a Unix
 * socket or an inherited descriptor), serves the page and bridges browsers to it; it resolves
 * when the emulator connection closes. The protocol is in docs/ui-protocol.md.
 */
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { UiBridge } from './bridge.js';
import { startWebServer, type WebServer } from './http.js';
import { connectSocket, EmulatorLink, inheritedSocket } from './link.js';

export { type BrowserHandle, type BrowserPeer, UiBridge } from './bridge.js';
export { DEFAULT_PORT, startWebServer, type WebServer, type WebServerOptions } from './http.js';
export {
  connectSocket,
  EmulatorLink,
  inheritedSocket,
  type Message,
  PROTOCOL,
  UiError,
  VERSIONS,
} from './link.js';

export interface UiOptions {
  /** Connect to an emulator listening here (`-display remote,socket=PATH`). */
  connect?: string;
  /** Use this inherited descriptor (the emulator started this process: `-display web`). */
  fd?: number;
  /** Or this stream (tests). */
  stream?: Duplex;
  addr?: string;
  port?: number;
  /** Open a browser on the page (xdg-open; failure is ignored). */
  open?: boolean;
  /** Where the URL line goes (default: stdout). */
  print?: (line: string) => void;
}

export interface RunningUi {
  readonly url: string;
  readonly web: WebServer;
  readonly bridge: UiBridge;
  /** Resolves when the emulator connection has closed (and the web server with it). */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

export async function runUi(options: UiOptions): Promise<RunningUi> {
  const stream =
    options.stream ??
    (options.connect !== undefined ? await connectSocket(options.connect) : inheritedSocket(options.fd ?? 3));
  const link = new EmulatorLink(stream);
  await link.handshake();
  const bridge = new UiBridge(link);
  const web = await startWebServer({
    bridge,
    ...(options.addr !== undefined ? { addr: options.addr } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  print(`tsemu-ui: the micro:bit is at ${web.url}`);
  if (options.addr === '0.0.0.0' || options.addr === '::') {
    print('tsemu-ui: listening on every interface: anyone with the URL (and its token) can use the machine');
  }
  link.send({ type: 'ui-info', url: web.url });
  if (options.open) openBrowser(web.url);
  const done = new Promise<void>((resolve) => {
    link.on('close', () => {
      void web.close().then(resolve);
    });
  });
  return {
    url: web.url,
    web,
    bridge,
    done,
    close: async () => {
      link.close();
      await done;
    },
  };
}

/** Opens `url` in the desktop's browser; a missing xdg-open or a headless host is no error. */
export function openBrowser(url: string): void {
  try {
    const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No browser to open: the URL is printed.
  }
}
