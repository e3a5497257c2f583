/**
 * QMP events: their declarations (schema, documentation) and the per-machine hub that turns
 * machine and board happenings into events for every connected QMP client.
 *
 * Machine events (QEMU's names and data): STOP, RESUME, RESET {guest, reason}, SHUTDOWN {guest,
 * reason}, POWERDOWN. Board events (tsemu's, named in QEMU's style): MICROBIT_DISPLAY, the
 * micro:bit's LED display whenever what it shows changes.
 *
 * Events are sent synchronously, as they happen, so an event caused by a command goes out before
 * that command's `return` (cont → RESUME, return), as in QEMU. Each QMP server registers with
 * the hub of its machine; every client that completed capabilities negotiation gets every event.
 *
 * The display event is coalesced and rate-limited: the LED matrix model delivers a frame every
 * `window-ns` of virtual time (18 ms); an event goes out only when the picture changed (a level
 * on the 0..9 scale, or a brightness by more than 16/255), and at most one per
 * `displayEventIntervalMs` of host time (default 50 ms: 20 pictures a second); a change inside
 * the interval is sent, as the latest picture, at its end. The hub watches the display only
 * while a negotiated client is connected, and not in qtest mode, where an extra timer would
 * change what `clock_step` without an argument jumps to (set `displayEvents: true` to force it).
 */
import type { Machine } from '../../core/machine.js';
import { microPythonLevel } from '../../hw/display/microbit-led-matrix.js';
import { MicrobitMachine } from '../../machine/microbit.js';
import type { JsonValue } from './json-stream.js';
import { array, bool, defineEvent, type EventDecl, int, req, str } from './schema.js';

export const QMP_EVENTS: readonly EventDecl[] = [
  defineEvent({ name: 'STOP', description: 'Emulation stopped (`stop`, a debugger, a guest pause).' }),
  defineEvent({ name: 'RESUME', description: 'Emulation resumed (`cont`, or start-up without `-S`).' }),
  defineEvent({
    name: 'RESET',
    description: 'The machine was reset.',
    data: {
      guest: req(bool, 'true when the guest asked for it (e.g. AIRCR.SYSRESETREQ, the watchdog)'),
      reason: req(str, "the cause: 'host-qmp-system-reset', 'guest-reset', 'host-ui'"),
    },
  }),
  defineEvent({
    name: 'SHUTDOWN',
    description: 'The machine shut down (`quit`, a signal, or a guest power-off).',
    data: {
      guest: req(bool, 'true when the guest caused it'),
      reason: req(str, "the cause: 'host-qmp-quit', 'host-signal', 'guest-shutdown', 'guest-reset'"),
    },
  }),
  defineEvent({
    name: 'POWERDOWN',
    description: 'A power-button press was requested (`system_powerdown`).',
  }),
  defineEvent({
    name: 'MICROBIT_DISPLAY',
    machine: 'microbit',
    description: "The micro:bit's 5x5 LED display shows a new picture.",
    data: {
      levels: req(array(int), "25 brightness levels on MicroPython's 0..9 scale, row-major (index y*5+x)"),
      brightness: req(array(int), "25 brightnesses 0..255 (the LEDs' duty cycle), row-major"),
    },
    notes:
      'Coalesced: sent only when the picture changes, at most once per 50 ms of host time (the ' +
      'latest picture wins). Not sent in qtest mode.',
  }),
];

export interface EventSink {
  /** Sends an event to this sink's client if it completed negotiation. */
  sendEvent(name: string, data: JsonValue | undefined): void;
  /** True while a client that completed negotiation is connected. */
  readonly listening: boolean;
}

export interface EventHubOptions {
  /** Watch the display for MICROBIT_DISPLAY (default: yes, except in qtest mode). */
  displayEvents?: boolean;
  /** Minimum host time between two MICROBIT_DISPLAY events, ms (default 50; 0: no limit). */
  displayEventIntervalMs?: number;
}

/** A display picture: MicroPython levels and 0..255 brightness. */
export interface DisplayPicture {
  levels: number[];
  brightness: number[];
}

const hubs = new WeakMap<Machine, QmpEventHub>();

/** The event hub of `machine`, created on first use. */
export function eventHubFor(machine: Machine, options: EventHubOptions = {}): QmpEventHub {
  let hub = hubs.get(machine);
  if (!hub) {
    hub = new QmpEventHub(machine, options);
    hubs.set(machine, hub);
  }
  return hub;
}

export class QmpEventHub {
  private readonly sinks = new Set<EventSink>();
  private readonly unsubscribe: Array<() => void> = [];
  /** Set while `quit` runs: QEMU reports only SHUTDOWN then, not the STOP of the stopping CPU. */
  quitting = false;
  private readonly displayEnabled: boolean;
  private readonly displayIntervalMs: number;
  private stopDisplay: (() => void) | null = null;
  private lastFrame: Float32Array | null = null;
  private sent: DisplayPicture | null = null;
  private pending: DisplayPicture | null = null;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private readonly scratch: DisplayPicture = {
    levels: new Array(25).fill(0),
    brightness: new Array(25).fill(0),
  };

  constructor(
    readonly machine: Machine,
    options: EventHubOptions,
  ) {
    this.displayEnabled = options.displayEvents ?? machine.runner.mode !== 'qtest';
    this.displayIntervalMs = options.displayEventIntervalMs ?? 50;
  }

  add(sink: EventSink): void {
    if (this.sinks.size === 0) this.subscribe();
    this.sinks.add(sink);
  }

  remove(sink: EventSink): void {
    this.sinks.delete(sink);
    if (this.sinks.size === 0) {
      for (const u of this.unsubscribe.splice(0)) u();
      this.stopWatchingDisplay();
      hubs.delete(this.machine);
    }
  }

  /** Sends an event to every negotiated client. */
  emit(name: string, data?: JsonValue): void {
    for (const s of this.sinks) s.sendEvent(name, data);
  }

  private subscribe(): void {
    const ev = this.machine.events;
    const onStop = (): void => {
      if (!this.quitting) this.emit('STOP');
    };
    const onResume = (): void => this.emit('RESUME');
    const onReset = (guest: boolean, reason: string): void => this.emit('RESET', { guest, reason });
    const onShutdown = (guest: boolean, reason: string): void => this.emit('SHUTDOWN', { guest, reason });
    ev.on('stop', onStop);
    ev.on('resume', onResume);
    ev.on('reset', onReset);
    ev.on('shutdown', onShutdown);
    this.unsubscribe.push(() => {
      ev.off('stop', onStop);
      ev.off('resume', onResume);
      ev.off('reset', onReset);
      ev.off('shutdown', onShutdown);
    });
  }

  /** Called by the servers when a client completes negotiation or leaves. */
  listenersChanged(): void {
    const anyone = [...this.sinks].some((s) => s.listening);
    if (anyone && this.displayEnabled) this.watchDisplay();
    else this.stopWatchingDisplay();
  }

  private watchDisplay(): void {
    if (this.stopDisplay || !(this.machine instanceof MicrobitMachine)) return;
    this.stopDisplay = this.machine.display.onFrame((frame) => this.onFrame(frame));
  }

  private stopWatchingDisplay(): void {
    this.stopDisplay?.();
    this.stopDisplay = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
    this.sent = null;
    this.lastFrame = null;
  }

  /**
   * The display's current brightness (0..1 per LED): the last frame seen while watching, or a
   * fresh one (the on-time since the previous frame boundary). Null on boards without display.
   */
  displayBrightness(): Float32Array | null {
    if (!(this.machine instanceof MicrobitMachine)) return null;
    if (this.lastFrame) return this.lastFrame;
    return this.machine.display.frame();
  }

  private onFrame(frame: Float32Array): void {
    this.lastFrame = frame;
    // Frames arrive every few ms of virtual time: compare in scratch arrays, copy only on change.
    const scratch = this.scratch;
    for (let i = 0; i < 25; i++) {
      const duty = frame[i] ?? 0;
      scratch.levels[i] = microPythonLevel(duty);
      scratch.brightness[i] = Math.round(duty * 255);
    }
    const reference = this.pending ?? this.sent;
    if (reference && !pictureChanged(reference, scratch)) return;
    this.pending = { levels: [...scratch.levels], brightness: [...scratch.brightness] };
    if (this.timer) return;
    const wait = this.lastSentAt + this.displayIntervalMs - Date.now();
    if (this.displayIntervalMs <= 0 || wait <= 0) {
      this.flushDisplay();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushDisplay();
    }, wait);
    this.timer.unref();
  }

  private flushDisplay(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    this.sent = p;
    this.lastSentAt = Date.now();
    this.emit('MICROBIT_DISPLAY', { levels: p.levels, brightness: p.brightness });
  }
}

function pictureChanged(a: DisplayPicture, b: DisplayPicture): boolean {
  for (let i = 0; i < a.levels.length; i++) {
    if (a.levels[i] !== b.levels[i]) return true;
    if (Math.abs(a.brightness[i]! - b.brightness[i]!) > 16) return true;
  }
  return false;
}
