/**
 * QMP client (what libqtest's libqmp does): commands are sent as one JSON object followed by a
 * newline; responses (`return` or `error`) come back in request order; events (`event`) can
 * arrive at any time, also before the response of the command that caused them, and are queued
 * until a test waits for them.
 */
import type { Socket } from 'node:net';
import { QmpError, QTestConnectionError } from './errors.js';
import { JsonStreamSplitter } from './json-stream.js';

export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp: QmpTimestamp;
}

/** The greeting's `QMP` member. */
export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

/** A response as received: `{return, id?}` or `{error: {class, desc}, id?}`. */
export interface QmpResponse {
  return?: unknown;
  error?: { class: string; desc: string };
  id?: unknown;
  [key: string]: unknown;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

interface EventWaiter extends Waiter<QmpEvent> {
  matches: (event: QmpEvent) => boolean;
}

/** Events kept in the queue before the oldest are dropped (a test that never waits for any). */
const EVENT_QUEUE_LIMIT = 10_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class QmpClient {
  private readonly socket: Socket;
  private readonly splitter = new JsonStreamSplitter();
  private greetingValue: QmpGreeting | null = null;
  private readonly greetingWaiters: Array<Waiter<QmpGreeting>> = [];
  private readonly responseWaiters: Array<Waiter<QmpResponse>> = [];
  private eventQueue: QmpEvent[] = [];
  private readonly eventWaiters = new Set<EventWaiter>();
  private readonly eventListeners = new Set<(event: QmpEvent) => void>();
  private failure: Error | null = null;
  /** Text the server sent that was not JSON (kept for error messages). */
  readonly garbage: string[] = [];

  /** `explain`: as for QTestClient, asked why the connection was lost. */
  constructor(socket: Socket, explain?: () => Promise<string | null>) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) =>
      this.splitter.feed(
        chunk,
        (value) => this.onMessage(value),
        (bad, reason) => this.garbage.push(`${bad} (${reason})`),
      ),
    );
    let lost = false;
    const onLost = (what: string): void => {
      if (this.failure || lost) return;
      lost = true;
      void (explain?.() ?? Promise.resolve(null)).then((why) =>
        this.fail(new QTestConnectionError(why === null ? what : `${what}: ${why}`)),
      );
    };
    socket.on('error', (e) => onLost(`QMP connection error (${e.message})`));
    socket.on('close', () => onLost('QMP connection closed by the emulator'));
  }

  private onMessage(message: unknown): void {
    if (!isRecord(message)) {
      this.garbage.push(`${JSON.stringify(message)} (not a JSON object)`);
      return;
    }
    if (this.greetingValue === null && isRecord(message.QMP)) {
      this.greetingValue = message.QMP as unknown as QmpGreeting;
      for (const w of this.greetingWaiters.splice(0)) w.resolve(this.greetingValue);
      return;
    }
    if (typeof message.event === 'string') {
      this.dispatchEvent(message as unknown as QmpEvent);
      return;
    }
    const waiter = this.responseWaiters.shift();
    if (waiter) waiter.resolve(message as QmpResponse);
    else this.garbage.push(`${JSON.stringify(message)} (a response nobody asked for)`);
  }

  private dispatchEvent(event: QmpEvent): void {
    for (const listener of this.eventListeners) listener(event);
    for (const w of this.eventWaiters) {
      if (w.matches(event)) {
        this.eventWaiters.delete(w);
        w.resolve(event);
        return;
      }
    }
    if (this.eventQueue.length >= EVENT_QUEUE_LIMIT) this.eventQueue = this.eventQueue.slice(-1000);
    this.eventQueue.push(event);
  }

  /** Rejects everything pending and future with `error` (connection lost). */
  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const w of this.greetingWaiters.splice(0)) w.reject(error);
    for (const w of this.responseWaiters.splice(0)) w.reject(error);
    for (const w of this.eventWaiters) w.reject(error);
    this.eventWaiters.clear();
  }

  close(): void {
    this.socket.destroy();
  }

  /** The server's greeting (`{"QMP": ...}`), once received. */
  greeting(): Promise<QmpGreeting> {
    if (this.greetingValue) return Promise.resolve(this.greetingValue);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.greetingWaiters.push({ resolve, reject }));
  }

  /** Sends `text` unchanged (for malformed-input tests); pair with `receive()`. */
  sendRaw(text: string): void {
    if (this.failure) throw this.failure;
    this.socket.write(text);
  }

  /** The next response (not event), whatever it is. */
  receive(): Promise<QmpResponse> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.responseWaiters.push({ resolve, reject }));
  }

  /** Sends a message object (plus the newline libqmp appends) and resolves with its response. */
  request(message: Record<string, unknown>): Promise<QmpResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const response = this.receive();
    this.socket.write(`${JSON.stringify(message)}\n`);
    return response;
  }

  /**
   * Runs `command` with `args` and resolves with its `return` value (typed by the caller);
   * throws QmpError with the error's class and description.
   */
  async execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    const message: Record<string, unknown> = { execute: command };
    if (args !== undefined) message.arguments = args;
    const response = await this.request(message);
    if (isRecord(response.error)) {
      const { class: errorClass, desc } = response.error;
      throw new QmpError(command, String(errorClass), String(desc));
    }
    if (!('return' in response)) {
      throw new QTestConnectionError(
        `QMP command '${command}': response has neither return nor error: ${JSON.stringify(response)}`,
      );
    }
    return response.return as T;
  }

  /** Events received and not yet consumed, oldest first; the queue is emptied. */
  takeEvents(): QmpEvent[] {
    const events = this.eventQueue;
    this.eventQueue = [];
    return events;
  }

  /** Calls `listener` for every event (queued or not); returns the function that unsubscribes. */
  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /**
   * The first queued event called `name` (and accepted by `predicate`), removed from the queue;
   * or the next one to arrive. Rejects after `timeoutMs` of wall time (a bound on a hang, not a
   * measurement) or when the connection is lost.
   */
  waitEvent(name: string, timeoutMs = 10_000, predicate?: (event: QmpEvent) => boolean): Promise<QmpEvent> {
    const matches = (e: QmpEvent): boolean => e.event === name && (predicate === undefined || predicate(e));
    const queued = this.eventQueue.findIndex(matches);
    if (queued >= 0) return Promise.resolve(this.eventQueue.splice(queued, 1)[0]!);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<QmpEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.eventWaiters.delete(waiter);
        reject(new Error(`QMP event ${name} not received within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: EventWaiter = {
        matches,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.eventWaiters.add(waiter);
    });
  }
}
