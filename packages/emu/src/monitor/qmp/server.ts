/**
 * The QMP server: QEMU's Machine Protocol on any chardev (`-qmp`, `-mon mode=control`, a socket
 * in server or client mode, stdio, a mux).
 *
 * Per connection, as QEMU 7.2 does:
 *  - the greeting `{"QMP": {"version": ..., "capabilities": ["oob"]}}` when the peer connects
 *    (again after a reconnect, with a fresh negotiation);
 *  - capabilities negotiation: only `qmp_capabilities` runs before it; any other command gets
 *    CommandNotFound "Expecting capabilities negotiation with 'qmp_capabilities'"; events flow
 *    only after it;
 *  - requests `{"execute"|"exec-oob": NAME, "arguments"?: {...}, "id"?: ANY}` checked with
 *    QEMU's texts (`QMP input must be a JSON object`, `QMP input member 'x' is unexpected`, ...);
 *    `id` is echoed on `return` and `error`; parse errors have no id;
 *  - in-band commands run one at a time in arrival order (an async one, human-monitor-command,
 *    holds the next ones back; input is no longer read while 8 requests wait); `exec-oob`
 *    requests, when the client enabled `oob`, run at once, also while an in-band one waits;
 *  - output ends each message with `\r\n`, like QEMU's monitor.
 *
 * Version mapping: `qemu` in the greeting and `query-version` is the QEMU release whose
 * interfaces tsemu follows (7.2.0, see the reference sheet), so that tools gating on QEMU's
 * version accept it; `package` is `tsemu X.Y.Z`, tsemu's own version (packageVersion()).
 */
import type { Chardev, CharEvent, CharFrontend } from '../../chardev/chardev.js';
import { packageVersion } from '../../cli/help.js';
import { isUserError, type QmpErrorClass, UserError } from '../../core/errors.js';
import type { Machine } from '../../core/machine.js';
import {
  commandsFor,
  eventsFor,
  type HmpHandler,
  type QmpCommandContext,
  type QmpVersionInfo,
} from './commands.js';
import { type EventHubOptions, type EventSink, eventHubFor, type QmpEventHub } from './events.js';
import { formatQmpJson, type JsonStreamLimits, JsonStreamParser, type JsonValue } from './json-stream.js';
import { type CommandDecl, type EventDecl, validateArguments } from './schema.js';

/** The QEMU release whose QMP tsemu speaks (greeting and query-version `qemu`). */
export const QMP_QEMU_VERSION = { major: 7, minor: 2, micro: 0 } as const;

/** Requests waiting for their turn before input is no longer read (QEMU's QMP_REQ_QUEUE_LEN_MAX). */
const MAX_QUEUED_REQUESTS = 8;

export interface QmpServerOptions extends EventHubOptions {
  machine: Machine;
  chardev: Chardev;
  /** Indent responses (`-mon ...,pretty=on`). */
  pretty?: boolean;
  /** The HMP for human-monitor-command. */
  hmp?: HmpHandler;
  /** Called after `quit` has replied: the command line exits the process with status 0. */
  onQuit?: () => void;
  /** tsemu's version for the greeting (default: packageVersion()). */
  version?: string;
  /** Input limits (default: QEMU's). */
  limits?: JsonStreamLimits;
  /** Wall-clock time in ms for event timestamps (default Date.now). */
  now?: () => number;
}

export interface QmpServerHandle {
  readonly server: QmpServer;
  /** Detaches from the chardev and stops sending events. Does not close the chardev. */
  close(): void;
}

/**
 * Serves QMP on `chardev` for `machine`. The chardev is attached at once; open it (or let the
 * command line open it) for the greeting to go out when a peer is there.
 */
export function startQmpServer(options: QmpServerOptions): QmpServerHandle {
  const server = new QmpServer(options);
  server.start();
  return { server, close: () => server.close() };
}

type Request = Record<string, JsonValue>;

export class QmpServer implements CharFrontend, EventSink {
  readonly machine: Machine;
  readonly chardev: Chardev;
  private readonly pretty: boolean;
  private readonly hmp: HmpHandler | undefined;
  private readonly onQuit: (() => void) | undefined;
  private readonly now: () => number;
  private readonly hub: QmpEventHub;
  private readonly parser: JsonStreamParser;
  private readonly commands: CommandDecl<QmpCommandContext>[];
  private readonly commandMap: Map<string, CommandDecl<QmpCommandContext>>;
  private readonly events: EventDecl[];
  private readonly version: QmpVersionInfo;

  // Session (one connected client).
  private connected = false;
  private negotiated = false;
  private oobEnabled = false;
  /** Bumped at every connect/disconnect: replies of an older session are dropped. */
  private generation = 0;
  private readonly queue: Request[] = [];
  private busy = false;
  private closed = false;

  constructor(options: QmpServerOptions) {
    this.machine = options.machine;
    this.chardev = options.chardev;
    this.pretty = options.pretty ?? false;
    this.hmp = options.hmp;
    this.onQuit = options.onQuit;
    this.now = options.now ?? Date.now;
    this.hub = eventHubFor(options.machine, options);
    this.parser = new JsonStreamParser((value, error) => this.onMessage(value, error), options.limits);
    this.commands = commandsFor(options.machine);
    this.commandMap = new Map(this.commands.map((c) => [c.name, c]));
    this.events = eventsFor(options.machine);
    this.version = {
      qemu: { ...QMP_QEMU_VERSION },
      package: `tsemu ${options.version ?? packageVersion()}`,
    };
  }

  /** Registers for events and attaches to the chardev (greets if a peer is already there). */
  start(): void {
    this.hub.add(this);
    this.chardev.attach(this);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.endSession();
    this.chardev.detach(this);
    this.hub.remove(this);
  }

  /** True while a client that completed negotiation is connected (it receives events). */
  get listening(): boolean {
    return this.connected && this.negotiated;
  }

  // ---- CharFrontend ---------------------------------------------------------------------------

  canReceive(): number {
    return this.queue.length >= MAX_QUEUED_REQUESTS ? 0 : 65536;
  }

  receive(data: Uint8Array): void {
    // Input without an 'opened' event first (a backend that has no connection notion): serve it.
    this.connected = true;
    this.parser.feed(data);
  }

  event(event: CharEvent): void {
    if (event === 'opened') {
      this.endSession();
      this.beginSession();
    } else if (event === 'closed') {
      this.endSession();
    }
  }

  private beginSession(): void {
    this.connected = true;
    this.generation++;
    this.send({
      QMP: {
        version: {
          qemu: {
            micro: this.version.qemu.micro,
            minor: this.version.qemu.minor,
            major: this.version.qemu.major,
          },
          package: this.version.package,
        },
        capabilities: ['oob'],
      },
    });
  }

  private endSession(): void {
    const wasListening = this.listening;
    this.connected = false;
    this.negotiated = false;
    this.oobEnabled = false;
    this.generation++;
    this.queue.length = 0;
    this.busy = false;
    this.parser.reset();
    if (wasListening) this.hub.listenersChanged();
  }

  // ---- output -------------------------------------------------------------------------------

  private send(message: Record<string, JsonValue | undefined>): void {
    if (this.closed) return;
    const text = formatQmpJson(message, this.pretty).replace(/\n/g, '\r\n');
    this.chardev.write(Buffer.from(`${text}\r\n`, 'latin1'));
  }

  sendEvent(name: string, data: JsonValue | undefined): void {
    if (!this.listening) return;
    const ms = this.now();
    const seconds = Math.floor(ms / 1000);
    const microseconds = Math.floor((ms - seconds * 1000) * 1000);
    this.send({
      timestamp: { seconds, microseconds },
      event: name,
      ...(data !== undefined ? { data } : {}),
    });
  }

  private sendError(errorClass: QmpErrorClass, desc: string, id: JsonValue | undefined): void {
    this.send({ error: { class: errorClass, desc }, ...(id !== undefined ? { id } : {}) });
  }

  // ---- input --------------------------------------------------------------------------------

  private onMessage(value: JsonValue | undefined, error: string | undefined): void {
    if (error !== undefined || value === undefined) {
      this.sendError('GenericError', error ?? 'JSON parse error', undefined);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.sendError('GenericError', 'QMP input must be a JSON object', undefined);
      return;
    }
    // exec-oob without execute runs at once (QEMU's qmp_is_oob); the checks decide the rest.
    if (Object.hasOwn(value, 'exec-oob') && !Object.hasOwn(value, 'execute')) {
      void this.dispatch(value, true);
      return;
    }
    this.queue.push(value);
    this.pump();
  }

  private pump(): void {
    while (!this.busy && this.queue.length > 0) {
      const req = this.queue.shift()!;
      const pending = this.dispatch(req, false);
      if (pending) {
        this.busy = true;
        const generation = this.generation;
        void pending.then(() => {
          if (generation !== this.generation) return;
          this.busy = false;
          this.pump();
        });
        return;
      }
    }
    if (this.queue.length < MAX_QUEUED_REQUESTS) this.chardev.acceptInput();
  }

  /** Runs one request and sends its response; returns a promise when the command is async. */
  private dispatch(req: Request, oob: boolean): Promise<void> | undefined {
    const id = Object.hasOwn(req, 'id') ? req.id : undefined;
    let execKey: string | undefined;
    for (const [key, v] of Object.entries(req)) {
      if (key === 'execute' || (key === 'exec-oob' && this.oobEnabled)) {
        if (typeof v !== 'string') return this.fail(`QMP input member '${key}' must be a string`, id);
        if (execKey) return this.fail(`QMP input member '${key}' clashes with '${execKey}'`, id);
        execKey = key;
      } else if (key === 'arguments') {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          return this.fail("QMP input member 'arguments' must be an object", id);
        }
      } else if (key !== 'id') {
        return this.fail(`QMP input member '${key}' is unexpected`, id);
      }
    }
    if (!execKey) return this.fail("QMP input lacks member 'execute'", id);
    const name = req[execKey] as string;
    const command = this.commandMap.get(name);
    if (!command || (!this.negotiated && !command.negotiation)) {
      const desc = this.negotiated
        ? `The command ${name} has not been found`
        : "Expecting capabilities negotiation with 'qmp_capabilities'";
      this.sendError('CommandNotFound', desc, id);
      return undefined;
    }
    if (oob && !command.allowOob) return this.fail(`The command ${name} does not support OOB`, id);

    const after: Array<() => void> = [];
    const ctx: QmpCommandContext = {
      machine: this.machine,
      hub: this.hub,
      hmp: this.hmp,
      version: this.version,
      commands: this.commands,
      events: this.events,
      session: { negotiate: (enable) => this.negotiate(enable) },
      afterResponse: (fn) => after.push(fn),
      quit: () => this.onQuit?.(),
    };
    const generation = this.generation;
    const reply = (result: unknown): void => {
      if (generation !== this.generation) return;
      this.send({ return: (result ?? {}) as JsonValue, ...(id !== undefined ? { id } : {}) });
      for (const fn of after) fn();
    };
    const replyError = (e: unknown): void => {
      if (generation !== this.generation) return;
      if (isUserError(e)) this.sendError(e.qmpClass, e.message, id);
      else
        this.sendError('GenericError', `internal error: ${e instanceof Error ? e.message : String(e)}`, id);
    };
    let result: unknown;
    try {
      const args = validateArguments(command.args, req.arguments);
      result = command.run(args, ctx);
    } catch (e) {
      replyError(e);
      return undefined;
    }
    if (result instanceof Promise) return result.then(reply, replyError);
    reply(result);
    return undefined;
  }

  private fail(desc: string, id: JsonValue | undefined): undefined {
    this.sendError('GenericError', desc, id);
    return undefined;
  }

  private negotiate(enable: readonly string[]): void {
    if (this.negotiated) {
      throw new UserError('Capabilities negotiation is already complete, command ignored', 'CommandNotFound');
    }
    // 'oob' is the only capability and it is always offered (the schema rejects others).
    this.oobEnabled = enable.includes('oob');
    this.negotiated = true;
    this.hub.listenersChanged();
  }
}
