/**
 * The bridge between one emulator and any number of browsers. Browsers speak the same
 * messages as the emulator link (one per WebSocket message instead of one per line); the
 * bridge:
 * - keeps what a browser that arrives later must see at once: the machine description, the
 *   latest status and display frame, and the recent serial output (replayed with `replay`);
 * - sends every emulator message to every browser, except replies to requests (`ok`, `error`,
 *   `monitor-reply` with an `id`), which go back to the browser that asked only: it renames
 *   request ids on the way out and back;
 * - answers the browser's side of the handshake itself (browsers never see the emulator's).
 */
import type { EmulatorLink, Json, Message } from './link.js';
import { PROTOCOL } from './link.js';

/** Serial output replayed to a browser that connects later (bytes). */
const SERIAL_HISTORY = 64 * 1024;

/** What the bridge needs from a browser connection. */
export interface BrowserPeer {
  send(text: string): void;
  close(): void;
}

/** The bridge's handle on one browser. */
export interface BrowserHandle {
  /** A message (JSON text) from the browser. */
  receive(text: string): void;
  /** The browser went away. */
  closed(): void;
}

/** Messages a browser may send to the emulator (the rest are refused here). */
const FROM_BROWSER = new Set([
  'serial-in',
  'monitor',
  'control',
  'flash',
  'button',
  'accelerometer',
  'gesture',
  'compass',
  'temperature',
  'light',
  'pin',
  'ping',
]);

export class UiBridge {
  private readonly browsers = new Set<BrowserPeer>();
  private machine: Message | null = null;
  private status: Message | null = null;
  private frame: Message | null = null;
  private serial: Buffer[] = [];
  private serialBytes = 0;
  private nextId = 1;
  private readonly pending = new Map<string, { peer: BrowserPeer; id: Json }>();

  constructor(private readonly link: EmulatorLink) {
    link.on('message', (msg) => this.fromEmulator(msg));
    link.on('close', () => {
      for (const b of [...this.browsers]) b.close();
      this.browsers.clear();
    });
  }

  /** Browsers connected now. */
  get browserCount(): number {
    return this.browsers.size;
  }

  addBrowser(peer: BrowserPeer): BrowserHandle {
    this.browsers.add(peer);
    const send = (msg: Message): void => peer.send(JSON.stringify(msg));
    send({ type: 'hello', protocol: PROTOCOL, version: this.link.version });
    if (this.machine) send(this.machine);
    if (this.status) send(this.status);
    if (this.frame) send(this.frame);
    if (this.serialBytes > 0)
      send({ type: 'serial', data: Buffer.concat(this.serial).toString('base64'), replay: true });
    return {
      receive: (text) => this.fromBrowser(peer, text),
      closed: () => {
        this.browsers.delete(peer);
        for (const [key, p] of this.pending) if (p.peer === peer) this.pending.delete(key);
      },
    };
  }

  private fromBrowser(peer: BrowserPeer, text: string): void {
    const reply = (msg: Message): void => peer.send(JSON.stringify(msg));
    let msg: Message;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      msg = parsed as Message;
    } catch {
      reply({ type: 'error', message: 'not a JSON message' });
      return;
    }
    if (msg.type === 'hello') return;
    if (typeof msg.type !== 'string' || !FROM_BROWSER.has(msg.type)) {
      reply({
        type: 'error',
        ...(msg.id !== undefined ? { id: msg.id } : {}),
        message: `unknown message type '${String(msg.type)}'`,
      });
      return;
    }
    if (this.link.isClosed) {
      reply({
        type: 'error',
        ...(msg.id !== undefined ? { id: msg.id } : {}),
        message: 'the emulator has gone',
      });
      return;
    }
    if (msg.id !== undefined) {
      const id = `b${this.nextId++}`;
      this.pending.set(id, { peer, id: msg.id });
      this.link.send({ ...msg, id });
    } else {
      this.link.send(msg);
    }
  }

  private fromEmulator(msg: Message): void {
    switch (msg.type) {
      case 'machine':
        this.machine = msg;
        break;
      case 'status':
        this.status = msg;
        break;
      case 'frame':
        this.frame = msg;
        break;
      case 'serial':
        this.remember(msg);
        // A replay is for this bridge's history; browsers already connected have seen it.
        if (msg.replay === true) return;
        break;
      default:
        break;
    }
    const id = msg.id;
    if (typeof id === 'string' && this.pending.has(id)) {
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      p.peer.send(JSON.stringify({ ...msg, id: p.id }));
      return;
    }
    const text = JSON.stringify(msg);
    for (const b of this.browsers) b.send(text);
  }

  private remember(msg: Message): void {
    if (typeof msg.data !== 'string') return;
    const bytes = Buffer.from(msg.data, 'base64');
    this.serial.push(bytes);
    this.serialBytes += bytes.length;
    while (this.serialBytes > SERIAL_HISTORY && this.serial.length > 1) {
      this.serialBytes -= this.serial.shift()!.length;
    }
    if (this.serialBytes > SERIAL_HISTORY) {
      const only = this.serial[0]!;
      this.serial = [only.subarray(only.length - SERIAL_HISTORY)];
      this.serialBytes = SERIAL_HISTORY;
    }
  }
}
