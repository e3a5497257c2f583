/**
 * The GDB Remote Serial Protocol packet layer, stub side (GDB manual, "Overview" of the remote
 * protocol):
 *
 * - A packet is `$payload#cs`, `cs` the modulo-256 sum of the payload bytes *as sent* (escapes
 *   included) in two hex digits. Each side acknowledges a packet with `+`, or `-` for a bad
 *   checksum, which asks the sender to send it again. After `QStartNoAckMode` neither side
 *   acknowledges any more.
 * - `}` escapes the next byte (XOR 0x20). Binary data (`X`, `vFlashWrite`) must escape `#`, `$`,
 *   `}` and `*`; incoming packets are unescaped here as a whole, as QEMU does, so that handlers
 *   see raw bytes.
 * - Run-length encoding `c*n` repeats `c` another `n - 29` times. GDB accepts it in replies;
 *   the count character must be printable and neither `#` nor `$` (runs of 6 or 7 repeats are
 *   cut to 5). Decoded on input too, for completeness.
 * - A 0x03 byte outside a packet is an interrupt request (Ctrl-C), out of band.
 *
 * `PacketDecoder` turns a byte stream (split or joined arbitrarily) into events; `encodePacket`
 * frames a reply; `PacketLink` ties both to a byte sink with the ack/nack and resend rules.
 */

const DOLLAR = 0x24;
const HASH = 0x23;
const BRACE = 0x7d;
const STAR = 0x2a;
const PLUS = 0x2b;
const MINUS = 0x2d;
const INTERRUPT = 0x03;
const ACK = Uint8Array.of(PLUS);
const NACK = Uint8Array.of(MINUS);

/** Bytes that must be escaped inside a payload (`#`, `$`, `}`, `*`). */
function mustEscape(b: number): boolean {
  return b === HASH || b === DOLLAR || b === BRACE || b === STAR;
}

/** Modulo-256 sum of `data[start, end)`. */
export function checksum(data: Uint8Array, start = 0, end = data.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + data[i]!) & 0xff;
  return sum;
}

/** Escapes `#$}*` as `}` + (byte XOR 0x20). */
export function escapeBinary(data: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of data) if (mustEscape(b)) extra++;
  if (extra === 0) return data;
  const out = new Uint8Array(data.length + extra);
  let o = 0;
  for (const b of data) {
    if (mustEscape(b)) {
      out[o++] = BRACE;
      out[o++] = b ^ 0x20;
    } else {
      out[o++] = b;
    }
  }
  return out;
}

/**
 * Undoes escapes and run-length encoding of a received payload (the bytes between `$` and `#`).
 * Null when it is malformed (a trailing `}`, a `*` with nothing before it or no count).
 */
export function decodePayload(raw: Uint8Array): Uint8Array | null {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === BRACE) {
      if (i + 1 >= raw.length) return null;
      out.push(raw[++i]! ^ 0x20);
    } else if (b === STAR) {
      if (out.length === 0 || i + 1 >= raw.length) return null;
      const repeat = raw[++i]! - 29;
      if (repeat < 0) return null;
      const last = out[out.length - 1]!;
      for (let k = 0; k < repeat; k++) out.push(last);
    } else {
      out.push(b);
    }
  }
  return Uint8Array.from(out);
}

/** Longest run one `*` can express: count character 126 ('~') = 97 repeats. */
const MAX_REPEAT = 126 - 29;

/**
 * Escapes `payload` and, with `rle`, run-length encodes runs of 4 or more equal bytes (escaped
 * bytes are never run-length encoded, so the count always follows a plain character).
 */
export function encodePayload(payload: Uint8Array, rle = true): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < payload.length) {
    const b = payload[i]!;
    if (mustEscape(b)) {
      out.push(BRACE, b ^ 0x20);
      i++;
      continue;
    }
    out.push(b);
    i++;
    if (!rle) continue;
    let run = 0;
    while (i + run < payload.length && payload[i + run] === b && run < MAX_REPEAT) run++;
    // Three repeats or fewer cost as much as the `*n` pair: write them out.
    if (run < 3) continue;
    // Counts that would give '#' (6) or '$' (7) are cut to 5; the rest follows as a new run.
    if (run === 6 || run === 7) run = 5;
    out.push(STAR, run + 29);
    i += run;
  }
  return Uint8Array.from(out);
}

/** Frames a reply as `$payload#cs` (escaped, RLE-encoded when `rle`). */
export function encodePacket(payload: Uint8Array | string, rle = true): Uint8Array {
  const raw = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const body = encodePayload(raw, rle);
  const out = new Uint8Array(body.length + 4);
  out[0] = DOLLAR;
  out.set(body, 1);
  const cs = checksum(body);
  out[body.length + 1] = HASH;
  out[body.length + 2] = hexDigit(cs >> 4);
  out[body.length + 3] = hexDigit(cs & 15);
  return out;
}

function hexDigit(n: number): number {
  return n < 10 ? 0x30 + n : 0x61 + n - 10;
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  return -1;
}

export interface PacketEvents {
  /** A packet with a good checksum, unescaped and RLE-expanded. */
  packet(payload: Uint8Array): void;
  /** A packet whose checksum did not match (or that could not be decoded, or was too long). */
  badPacket(): void;
  /** `+` outside a packet. */
  ack(): void;
  /** `-` outside a packet. */
  nack(): void;
  /** 0x03 outside a packet. */
  interrupt(): void;
}

const STATE_IDLE = 0;
const STATE_BODY = 1;
const STATE_CS1 = 2;
const STATE_CS2 = 3;

/**
 * Splits an incoming byte stream into packets and out-of-band bytes. Input may arrive in any
 * pieces; state carries over between `feed` calls. Bytes outside packets other than `+`, `-`
 * and 0x03 are ignored (GDB sends none; noise must not wedge the stub).
 */
export class PacketDecoder {
  private state = STATE_IDLE;
  private body: number[] = [];
  private sum = 0;
  private given = 0;
  private overflow = false;

  /** `maxPayload`: longest payload (as sent) accepted; longer packets are NACKed. */
  constructor(
    private readonly events: PacketEvents,
    readonly maxPayload = 0x10000,
  ) {}

  /** Forgets a partial packet (a new connection). */
  reset(): void {
    this.state = STATE_IDLE;
    this.body = [];
    this.overflow = false;
  }

  feed(data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      switch (this.state) {
        case STATE_IDLE:
          if (b === DOLLAR) {
            this.state = STATE_BODY;
            this.body = [];
            this.sum = 0;
            this.overflow = false;
          } else if (b === PLUS) {
            this.events.ack();
          } else if (b === MINUS) {
            this.events.nack();
          } else if (b === INTERRUPT) {
            this.events.interrupt();
          }
          break;
        case STATE_BODY:
          if (b === HASH) {
            this.state = STATE_CS1;
          } else if (b === DOLLAR) {
            // A new packet start inside a packet: the old one was cut short; take the new one.
            this.body = [];
            this.sum = 0;
            this.overflow = false;
          } else {
            this.sum = (this.sum + b) & 0xff;
            if (this.body.length < this.maxPayload) this.body.push(b);
            else this.overflow = true;
          }
          break;
        case STATE_CS1:
          this.given = hexValue(b);
          this.state = STATE_CS2;
          break;
        case STATE_CS2: {
          this.state = STATE_IDLE;
          const low = hexValue(b);
          const ok = this.given >= 0 && low >= 0 && ((this.given << 4) | low) === this.sum && !this.overflow;
          const payload = ok ? decodePayload(Uint8Array.from(this.body)) : null;
          this.body = [];
          if (payload) this.events.packet(payload);
          else this.events.badPacket();
          break;
        }
      }
    }
  }
}

export interface PacketLinkOptions {
  /** Writes bytes to the peer. */
  write: (data: Uint8Array) => void;
  /** A good packet arrived (already acknowledged). */
  onPacket: (payload: Uint8Array) => void;
  /** Ctrl-C arrived. */
  onInterrupt: () => void;
  /** Longest payload accepted (default 64 KiB). */
  maxPayload?: number;
  /** Run-length encode replies (default true). */
  rle?: boolean;
}

/**
 * One end of an RSP connection: acknowledges good packets, NACKs bad ones, resends the last
 * reply on `-`, and stops acknowledging after `setNoAck()`.
 */
export class PacketLink {
  private readonly decoder: PacketDecoder;
  private noAck = false;
  private lastSent: Uint8Array | null = null;
  private readonly rle: boolean;

  constructor(private readonly options: PacketLinkOptions) {
    this.rle = options.rle ?? true;
    this.decoder = new PacketDecoder(
      {
        packet: (payload) => {
          if (!this.noAck) this.options.write(ACK);
          this.options.onPacket(payload);
        },
        badPacket: () => {
          if (!this.noAck) this.options.write(NACK);
        },
        ack: () => {},
        nack: () => {
          if (!this.noAck && this.lastSent) this.options.write(this.lastSent);
        },
        interrupt: () => this.options.onInterrupt(),
      },
      options.maxPayload,
    );
  }

  /** True once acknowledgements are off. */
  get noAckMode(): boolean {
    return this.noAck;
  }

  /** Turns acknowledgements off (after the `OK` to QStartNoAckMode has been sent). */
  setNoAck(): void {
    this.noAck = true;
  }

  /** Back to the state of a new connection. */
  reset(): void {
    this.decoder.reset();
    this.noAck = false;
    this.lastSent = null;
  }

  feed(data: Uint8Array): void {
    this.decoder.feed(data);
  }

  /** Sends one packet; it is kept for a resend until the next one. */
  send(payload: Uint8Array | string): void {
    const framed = encodePacket(payload, this.rle);
    this.lastSent = framed;
    this.options.write(framed);
  }
}
