import { describe, expect, it } from 'vitest';
import {
  checksum,
  decodePayload,
  encodePacket,
  encodePayload,
  escapeBinary,
  PacketDecoder,
  PacketLink,
} from './packet.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** `$payload#cs` with the checksum computed here, independently of the module. */
function frame(payload: string): string {
  let sum = 0;
  for (const ch of Buffer.from(payload, 'latin1')) sum = (sum + ch) & 0xff;
  return `$${payload}#${sum.toString(16).padStart(2, '0')}`;
}

function recordingDecoder(): { decoder: PacketDecoder; log: string[] } {
  const log: string[] = [];
  const decoder = new PacketDecoder({
    packet: (p) => log.push(`packet:${text(p)}`),
    badPacket: () => log.push('bad'),
    ack: () => log.push('+'),
    nack: () => log.push('-'),
    interrupt: () => log.push('^C'),
  });
  return { decoder, log };
}

describe('checksums and framing', () => {
  it('sums the payload bytes modulo 256', () => {
    expect(checksum(bytes('OK'))).toBe(0x9a);
    expect(checksum(bytes(''))).toBe(0);
    expect(checksum(new Uint8Array([0xff, 0x02]))).toBe(0x01);
  });

  it('frames a reply as $payload#cs with two lower-case hex digits', () => {
    expect(text(encodePacket('OK'))).toBe('$OK#9a');
    expect(text(encodePacket(''))).toBe('$#00');
    expect(text(encodePacket('qSupported', false))).toBe(frame('qSupported'));
  });
});

describe('escaping', () => {
  it('escapes # $ } * as } followed by the byte xor 0x20', () => {
    expect(text(escapeBinary(bytes('a#b$c}d*e')))).toBe('a}\x03b}\x04c}]d}\x0ae');
  });

  it('returns data that needs no escape unchanged', () => {
    const data = bytes('plain');
    expect(escapeBinary(data)).toBe(data);
  });

  it('undoes escapes on input, so binary data round-trips', () => {
    const data = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decodePayload(escapeBinary(data))).toEqual(data);
  });

  it('escapes special bytes in framed replies and checksums the escaped form', () => {
    const framed = text(encodePacket(bytes('x#y'), false));
    expect(framed).toBe(frame('x}\x03y'));
  });

  it('rejects a payload ending in a lone escape', () => {
    expect(decodePayload(bytes('ab}'))).toBeNull();
  });
});

describe('run-length encoding', () => {
  it('encodes a run as the character, * and the repeat count + 29', () => {
    // 10 zeros: one '0' then 9 repeats → '*' + chr(9 + 29) = '&'.
    expect(text(encodePayload(bytes('0000000000')))).toBe('0*&');
  });

  it('writes runs of up to three characters out and encodes longer ones', () => {
    expect(text(encodePayload(bytes('aaa')))).toBe('aaa');
    expect(text(encodePayload(bytes('aaaa')))).toBe('a* ');
  });

  it('never uses # or $ as the count (6 and 7 repeats are cut to 5)', () => {
    for (let n = 1; n < 300; n++) {
      const encoded = encodePayload(bytes('z'.repeat(n)));
      for (let i = 0; i < encoded.length; i++) {
        if (encoded[i] === 0x2a) {
          const count = encoded[i + 1]!;
          expect(count).not.toBe(0x23);
          expect(count).not.toBe(0x24);
          expect(count).toBeGreaterThanOrEqual(32);
          expect(count).toBeLessThanOrEqual(126);
          i++;
        }
      }
      expect(text(decodePayload(encoded)!)).toBe('z'.repeat(n));
    }
  });

  it('does not run-length encode escaped bytes', () => {
    const encoded = text(encodePayload(bytes('########')));
    expect(encoded).toBe('}\x03'.repeat(8));
    expect(text(decodePayload(bytes(encoded))!)).toBe('########');
  });

  it('decodes run-length encoded input', () => {
    expect(text(decodePayload(bytes('x* y'))!)).toBe('xxxxy');
    expect(decodePayload(bytes('*a'))).toBeNull();
  });

  it('can be turned off', () => {
    expect(text(encodePayload(bytes('0000000000'), false))).toBe('0000000000');
  });
});

describe('PacketDecoder', () => {
  it('takes packets split across any number of pieces', () => {
    const { decoder, log } = recordingDecoder();
    const wire = frame('qSupported:multiprocess+');
    for (const ch of wire) decoder.feed(bytes(ch));
    expect(log).toEqual(['packet:qSupported:multiprocess+']);
  });

  it('takes several packets and acks joined in one piece', () => {
    const { decoder, log } = recordingDecoder();
    decoder.feed(bytes(`+${frame('g')}${frame('m0,4')}-`));
    expect(log).toEqual(['+', 'packet:g', 'packet:m0,4', '-']);
  });

  it('reports a bad checksum instead of the packet', () => {
    const { decoder, log } = recordingDecoder();
    decoder.feed(bytes('$g#00'));
    decoder.feed(bytes('$g#zz'));
    expect(log).toEqual(['bad', 'bad']);
  });

  it('accepts upper-case checksum digits', () => {
    const { decoder, log } = recordingDecoder();
    decoder.feed(bytes('$OK#9A'));
    expect(log).toEqual(['packet:OK']);
  });

  it('sees 0x03 outside a packet as an interrupt and inside one as data', () => {
    const { decoder, log } = recordingDecoder();
    decoder.feed(Uint8Array.of(0x03));
    decoder.feed(bytes(frame('a\x03b')));
    expect(log).toEqual(['^C', 'packet:a\x03b']);
  });

  it('restarts on a $ inside a packet (the earlier one was cut short)', () => {
    const { decoder, log } = recordingDecoder();
    decoder.feed(bytes(`$ab${frame('c')}`));
    expect(log).toEqual(['packet:c']);
  });

  it('rejects packets longer than its limit', () => {
    const log: string[] = [];
    const decoder = new PacketDecoder(
      {
        packet: (p) => log.push(text(p)),
        badPacket: () => log.push('bad'),
        ack: () => {},
        nack: () => {},
        interrupt: () => {},
      },
      4,
    );
    decoder.feed(bytes(frame('12345')));
    decoder.feed(bytes(frame('1234')));
    expect(log).toEqual(['bad', '1234']);
  });

  it('unescapes binary payloads before handing them over', () => {
    const { decoder, log } = recordingDecoder();
    decoder.feed(bytes(frame('X0,1:}\x03')));
    expect(log).toEqual(['packet:X0,1:#']);
  });
});

describe('PacketLink', () => {
  function link(): { link: PacketLink; wire: string[]; packets: string[]; interrupts: number[] } {
    const wire: string[] = [];
    const packets: string[] = [];
    const interrupts: number[] = [];
    const l = new PacketLink({
      write: (d) => wire.push(text(d)),
      onPacket: (p) => packets.push(text(p)),
      onInterrupt: () => interrupts.push(1),
    });
    return { link: l, wire, packets, interrupts };
  }

  it('acknowledges a good packet with + before handling it', () => {
    const t = link();
    t.link.feed(bytes(frame('?')));
    expect(t.wire).toEqual(['+']);
    expect(t.packets).toEqual(['?']);
  });

  it('NACKs a packet with a bad checksum and does not handle it', () => {
    const t = link();
    t.link.feed(bytes('$?#00'));
    expect(t.wire).toEqual(['-']);
    expect(t.packets).toEqual([]);
  });

  it('sends the last reply again on -', () => {
    const t = link();
    t.link.send('OK');
    t.link.feed(bytes('-'));
    expect(t.wire).toEqual(['$OK#9a', '$OK#9a']);
  });

  it('neither acks nor NACKs nor resends in no-ack mode', () => {
    const t = link();
    t.link.send('OK');
    t.link.setNoAck();
    t.link.feed(bytes(`${frame('g')}$g#00-`));
    expect(t.wire).toEqual(['$OK#9a']);
    expect(t.packets).toEqual(['g']);
    expect(t.link.noAckMode).toBe(true);
  });

  it('goes back to ack mode on reset (a new connection)', () => {
    const t = link();
    t.link.setNoAck();
    t.link.reset();
    t.link.feed(bytes(frame('g')));
    expect(t.wire).toEqual(['+']);
  });

  it('passes Ctrl-C on out of band', () => {
    const t = link();
    t.link.feed(Uint8Array.of(0x03));
    expect(t.interrupts).toEqual([1]);
    expect(t.wire).toEqual([]);
  });
});
