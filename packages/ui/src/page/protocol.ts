/**
 * The page's view of the `tsemu-ui/1` messages (docs/ui-protocol.md) and its connection: one
 * WebSocket to the UI process, requests with ids answered by `ok` / `error` / `monitor-reply`.
 */

export interface MachineInfo {
  type: 'machine';
  machine: string;
  description: string;
  board: string | null;
  capabilities: string[];
  buttons: string[];
  pins: string[];
  gestures: string[];
}

export interface Status {
  type: 'status';
  state: string;
  mode: string;
  time: number;
  outputs?: Record<string, number>;
}

export interface Frame {
  type: 'frame';
  levels: number[];
  brightness: number[];
  time: number;
}

export type Incoming =
  | { type: 'hello'; protocol: string; version: number }
  | MachineInfo
  | Status
  | Frame
  | { type: 'serial'; data: string; replay?: boolean }
  | { type: 'monitor-reply'; id?: number; text: string }
  | { type: 'event'; event: string; reason?: string; name?: string }
  | { type: 'ok'; id: number }
  | { type: 'error'; id?: number; message: string }
  | { type: 'pong'; id?: number };

export type Outgoing = { type: string; [key: string]: unknown };

export interface ConnectionHandlers {
  onMessage(msg: Incoming): void;
  onOpen(): void;
  onClose(): void;
}

/** The page's connection; reconnects while the UI process is there. */
export class Connection {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (text: string) => void; reject: (e: Error) => void }
  >();

  constructor(
    private readonly url: string,
    private readonly handlers: ConnectionHandlers,
  ) {}

  open(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => this.handlers.onOpen();
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      const msg = JSON.parse(ev.data) as Incoming;
      if ('id' in msg && typeof msg.id === 'number' && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id)!;
        this.pending.delete(msg.id);
        if (msg.type === 'error') p.reject(new Error(msg.message));
        else p.resolve(msg.type === 'monitor-reply' ? msg.text : '');
        return;
      }
      this.handlers.onMessage(msg);
    };
    ws.onclose = () => {
      this.ws = null;
      for (const p of this.pending.values()) p.reject(new Error('disconnected'));
      this.pending.clear();
      this.handlers.onClose();
      // The UI process may come back (or the network): try again a little later.
      setTimeout(() => this.open(), 2000);
    };
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Sends without waiting for an answer. */
  send(msg: Outgoing): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  /** Sends with an id; resolves with the reply text (monitor) or '' (ok), rejects on error. */
  request(msg: Outgoing): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.ws?.readyState !== WebSocket.OPEN) {
        reject(new Error('not connected to the emulator'));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...msg, id }));
    });
  }
}
