/**
 * The air between radios: a broadcast medium that carries packets from a transmitter to every
 * receiver listening on the same channel with the same modulation and a matching address.
 *
 * It is deliberately small and separate from the nRF51 RADIO so that several boards (a later
 * issue) can share one medium. Delivery is synchronous: `transmit` hands the packet to every
 * matching receiver at the moment the transmitter's packet ends, in attach order; the
 * receivers then run their own receive timing. All radios on a medium must share one virtual
 * clock (one machine, or machines stepped in lockstep).
 *
 * Accuracy: an ideal channel: no path loss, noise, interference or collisions (two packets on
 * the air at once both arrive), no propagation delay; a receiver either hears a packet whole
 * or not at all.
 */

/** What goes on the air, as the radios' packet formats describe it. */
export interface RadioPacket {
  /** RF channel: 2400 + `frequencyMhz` MHz offset as the nRF51 FREQUENCY register gives it. */
  frequency: number;
  /** Modulation and bit rate (the nRF51 MODE register value). */
  mode: number;
  /** The on-air address bytes (base address followed by the prefix byte), as transmitted. */
  address: Uint8Array;
  /** S0, LENGTH, S1 and payload bytes exactly as the transmitter's RAM held them. */
  body: Uint8Array;
  /** The CRC the transmitter appended (CRCCNF.LEN bytes, 0 when CRC is off). */
  crc: number;
  crcLength: number;
}

export interface RadioReceiver {
  /** True when the receiver is in RX state on this channel and mode and accepts this address. */
  accepts(packet: RadioPacket): boolean;
  /** Takes the packet (only called after `accepts` returned true). */
  deliver(packet: RadioPacket): void;
}

export class RadioMedium {
  private readonly radios: RadioReceiver[] = [];
  /** Every packet sent, for tests and tracing (bounded). */
  readonly history: RadioPacket[] = [];
  private readonly historyLimit: number;

  constructor(historyLimit = 256) {
    this.historyLimit = historyLimit;
  }

  attach(radio: RadioReceiver): void {
    if (!this.radios.includes(radio)) this.radios.push(radio);
  }

  detach(radio: RadioReceiver): void {
    const i = this.radios.indexOf(radio);
    if (i >= 0) this.radios.splice(i, 1);
  }

  /** Sends `packet` from `sender` to every other radio that accepts it; returns how many did. */
  transmit(sender: RadioReceiver, packet: RadioPacket): number {
    this.history.push(packet);
    if (this.history.length > this.historyLimit) this.history.shift();
    let n = 0;
    for (const r of this.radios) {
      if (r === sender || !r.accepts(packet)) continue;
      r.deliver(packet);
      n++;
    }
    return n;
  }
}
