import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { MuxChardev } from './mux.js';
import { NullChardev } from './null.js';
import { RingbufChardev } from './ringbuf.js';
import { SocketChardev } from './socket.js';
import {
  ChardevRegistry,
  chardevHelpText,
  createChardev,
  isChardevHelp,
  parseChardevOption,
  parseCharSpec,
  parseKeyValueList,
} from './spec.js';
import { StdioChardev } from './stdio.js';

const common = { mux: false, logappend: false };

describe('parseKeyValueList', () => {
  it('splits on single commas, unescapes ",," and names the first bare item', () => {
    expect(parseKeyValueList('socket,path=/tmp/a,,b,id=x', 'backend')).toEqual([
      ['backend', 'socket'],
      ['path', '/tmp/a,b'],
      ['id', 'x'],
    ]);
  });

  it('reads bare flags as on and "no" flags as off', () => {
    expect(parseKeyValueList('server,nowait,nodelay')).toEqual([
      ['server', 'on'],
      ['wait', 'off'],
      ['delay', 'off'],
    ]);
  });
});

describe('parseChardevOption (-chardev)', () => {
  it('parses the libqtest QMP chardev as a Unix client', () => {
    expect(parseChardevOption('socket,path=/tmp/qtest-1.qmp,id=char0')).toEqual({
      id: 'char0',
      options: {
        ...common,
        backend: 'socket',
        address: { type: 'unix', path: '/tmp/qtest-1.qmp' },
        server: false,
        wait: false,
        nodelay: false,
        reconnectMs: 0,
        telnet: false,
      },
    });
  });

  it('parses a TCP server: wait defaults to on, values take on/off/yes/no/true/false', () => {
    const { options } = parseChardevOption('socket,id=s,host=127.0.0.1,port=4444,server=on,nodelay=yes');
    expect(options).toMatchObject({
      backend: 'socket',
      address: { type: 'inet', host: '127.0.0.1', port: 4444 },
      server: true,
      wait: true,
      nodelay: true,
    });
    expect(parseChardevOption('socket,id=s,port=1,host=,server=true,wait=false').options).toMatchObject({
      address: { type: 'inet', host: '', port: 1 },
      server: true,
      wait: false,
    });
    expect(parseChardevOption('socket,id=s,path=/p,server,nowait').options).toMatchObject({
      server: true,
      wait: false,
    });
    expect(parseChardevOption('socket,id=s,path=/p,delay=off').options).toMatchObject({ nodelay: true });
  });

  it('converts reconnect seconds to milliseconds', () => {
    expect(parseChardevOption('socket,id=c,path=/p,reconnect=2').options).toMatchObject({
      reconnectMs: 2000,
    });
    expect(parseChardevOption('socket,id=c,path=/p,reconnect-ms=250').options).toMatchObject({
      reconnectMs: 250,
    });
  });

  it('parses the other backends', () => {
    expect(parseChardevOption('null,id=n').options).toEqual({ ...common, backend: 'null' });
    expect(parseChardevOption('ringbuf,id=r,size=1K').options).toEqual({
      ...common,
      backend: 'ringbuf',
      size: 1024,
    });
    expect(parseChardevOption('ringbuf,id=r').options).toMatchObject({ size: 65536 });
    expect(parseChardevOption('memory,id=m,size=256').options).toEqual({
      ...common,
      backend: 'ringbuf',
      size: 256,
      memoryAlias: true,
    });
    expect(parseChardevOption('file,id=f,path=/tmp/out,append=on,input-path=/tmp/in').options).toEqual({
      ...common,
      backend: 'file',
      path: '/tmp/out',
      inputPath: '/tmp/in',
      append: true,
    });
    expect(parseChardevOption('pipe,id=p,path=/tmp/guest').options).toEqual({
      ...common,
      backend: 'pipe',
      path: '/tmp/guest',
    });
    expect(parseChardevOption('stdio,id=s,signal=off,mux=on').options).toEqual({
      ...common,
      mux: true,
      backend: 'stdio',
      signal: false,
    });
    expect(parseChardevOption('stdio,id=s,logfile=/tmp/l,logappend=on').options).toEqual({
      ...common,
      logfile: '/tmp/l',
      logappend: true,
      backend: 'stdio',
      signal: true,
    });
  });

  it('accepts an explicit backend= key', () => {
    expect(parseChardevOption('id=n,backend=null').options).toMatchObject({ backend: 'null' });
  });

  it.each([
    ['socket,id=x,path=/p,foo=1', "Invalid parameter 'foo'"],
    ['null', 'chardev: no id specified'],
    ['id=x', 'chardev: "x" missing backend'],
    ['null,id=1x', "Parameter 'id' expects an identifier"],
    ['bogus,id=x', "'bogus' is not a valid char driver name"],
    ['udp,id=x,host=h,port=1', "chardev backend 'udp' is not supported by tsemu"],
    ['vc,id=x', "chardev backend 'vc' is not supported by tsemu"],
    ['spicevmc,id=x', "chardev backend 'spicevmc' is not supported by tsemu"],
    ['msmouse,id=x', "chardev backend 'msmouse' is not supported by tsemu"],
    ['socket,id=x,path=/p,server=maybe', "Parameter 'server' expects 'on' or 'off'"],
    ['socket,id=x,host=h', 'chardev: socket: no port given'],
    ['socket,id=x', "chardev: socket: 'path' or 'host' and 'port' required"],
    ['socket,id=x,path=/p,host=h,port=1', "None or one of 'path', 'fd' or 'host' option required."],
    ['socket,id=x,path=/p,wait=off', "'wait' option is incompatible with socket in client connect mode"],
    [
      'socket,id=x,path=/p,server=on,reconnect=1',
      "'reconnect' option is incompatible with socket in server listen mode",
    ],
    [
      'socket,id=x,path=/p,reconnect=1,reconnect-ms=5',
      "'reconnect' and 'reconnect-ms' are mutually exclusive",
    ],
    ['socket,id=x,path=/p,delay=on,nodelay=on', "'delay' and 'nodelay' are mutually exclusive"],
    ['socket,id=x,path=/p,reconnect=soon', "Parameter 'reconnect' expects a number"],
    ['socket,id=x,host=h,port=http', "chardev: socket: invalid port 'http'"],
    ['socket,id=x,host=h,port=1,tls-creds=t', "chardev option 'tls-creds' is not supported by tsemu"],
    ['ringbuf,id=r,size=1000', 'size of ringbuf chardev must be power of two'],
    ['file,id=f', 'chardev: file: no filename given'],
    ['pipe,id=p', 'chardev: pipe: no device path given'],
  ])('rejects %s', (text, message) => {
    expect(() => parseChardevOption(text)).toThrow(UserError);
    expect(() => parseChardevOption(text)).toThrow(message);
  });

  it('recognizes help', () => {
    expect(isChardevHelp('help')).toBe(true);
    expect(isChardevHelp('socket,id=x')).toBe(false);
    expect(chardevHelpText()).toContain('\n  socket');
  });
});

describe('parseCharSpec (-serial, -monitor, -qmp, -gdb, -qtest)', () => {
  it('parses the libqtest qtest socket as a Unix client', () => {
    expect(parseCharSpec('unix:/tmp/qtest-1.sock')).toEqual({
      kind: 'new',
      monitor: false,
      options: {
        ...common,
        backend: 'socket',
        address: { type: 'unix', path: '/tmp/qtest-1.sock' },
        server: false,
        wait: false,
        nodelay: false,
        reconnectMs: 0,
        telnet: false,
      },
    });
  });

  it('parses none, null, stdio, chardev:ID', () => {
    expect(parseCharSpec('none')).toEqual({ kind: 'none' });
    expect(parseCharSpec('chardev:s0')).toEqual({ kind: 'chardev', id: 's0' });
    expect(parseCharSpec('null')).toEqual({
      kind: 'new',
      monitor: false,
      options: { ...common, backend: 'null' },
    });
    expect(parseCharSpec('stdio')).toEqual({
      kind: 'new',
      monitor: false,
      options: { ...common, backend: 'stdio', signal: true },
    });
  });

  it('makes mon:stdio a mux with the monitor and passes Ctrl-C to the guest', () => {
    expect(parseCharSpec('mon:stdio')).toEqual({
      kind: 'new',
      monitor: true,
      options: { ...common, mux: true, backend: 'stdio', signal: false },
    });
    expect(() => parseCharSpec('mon:stdio', { permitMuxMonitor: false })).toThrow(
      "mon: isn't supported in this context",
    );
  });

  it('takes file: and pipe: paths verbatim', () => {
    expect(parseCharSpec('file:/tmp/a,b.log')).toMatchObject({
      options: { backend: 'file', path: '/tmp/a,b.log', append: false },
    });
    expect(parseCharSpec('pipe:/tmp/guest')).toMatchObject({
      options: { backend: 'pipe', path: '/tmp/guest' },
    });
  });

  it('parses tcp: with and without a host, new and old server flags', () => {
    expect(parseCharSpec('tcp:127.0.0.1:4444')).toMatchObject({
      options: { address: { type: 'inet', host: '127.0.0.1', port: 4444 }, server: false, wait: false },
    });
    expect(parseCharSpec('tcp::1234,server=on,wait=off')).toMatchObject({
      options: { address: { type: 'inet', host: '', port: 1234 }, server: true, wait: false },
    });
    expect(parseCharSpec('tcp:localhost:5555,server,nowait')).toMatchObject({
      options: { address: { host: 'localhost', port: 5555 }, server: true, wait: false },
    });
    expect(parseCharSpec('tcp::1,server=on')).toMatchObject({ options: { server: true, wait: true } });
    expect(parseCharSpec('tcp::1,nodelay=on')).toMatchObject({ options: { nodelay: true } });
    // The gdbstub appends its required flags; the last value of a key wins.
    expect(parseCharSpec('tcp::1234,server=off,wait=off,nodelay=on,server=on')).toMatchObject({
      options: { server: true, wait: false, nodelay: true },
    });
  });

  it('treats telnet: as a TCP server spec with telnet noted', () => {
    expect(parseCharSpec('telnet::4321,server,nowait')).toMatchObject({
      options: {
        backend: 'socket',
        address: { host: '', port: 4321 },
        server: true,
        wait: false,
        telnet: true,
      },
    });
  });

  it('parses unix: with options and doubled commas in the path', () => {
    expect(parseCharSpec('unix:/tmp/a,,b.sock,server=on,wait=off')).toMatchObject({
      options: { address: { type: 'unix', path: '/tmp/a,b.sock' }, server: true, wait: false },
    });
  });

  it.each([
    ['xyz', "'xyz' is not a valid char driver"],
    ['tcp:nohostport', "'tcp:nohostport' is not a valid char driver"],
    ['vc', "chardev backend 'vc' is not supported by tsemu"],
    ['vc:80Cx24C', "chardev backend 'vc' is not supported by tsemu"],
    ['udp::4555@:4556', "chardev backend 'udp' is not supported by tsemu"],
    ['pty', "chardev backend 'pty' is not supported by tsemu"],
    ['/dev/ttyS0', "chardev backend 'serial' is not supported by tsemu"],
    ['unix:/p,bogus=1', "Invalid parameter 'bogus'"],
    ['tcp::99999', "chardev: socket: invalid port '99999'"],
  ])('rejects %s', (text, message) => {
    expect(() => parseCharSpec(text)).toThrow(UserError);
    expect(() => parseCharSpec(text)).toThrow(message);
  });
});

describe('createChardev', () => {
  it('builds the backend class named by the options', () => {
    expect(createChardev('n', { ...common, backend: 'null' })).toBeInstanceOf(NullChardev);
    const rb = createChardev('r', { ...common, backend: 'ringbuf', size: 16 });
    expect(rb).toBeInstanceOf(RingbufChardev);
    expect(rb.typeName).toBe('chardev-ringbuf');
    expect(rb.isA('chardev')).toBe(true);
    const sock = createChardev('s', parseChardevOption('socket,id=s,path=/tmp/x,server=on').options);
    expect(sock).toBeInstanceOf(SocketChardev);
    expect((sock as SocketChardev).isServer).toBe(true);
  });

  it('wraps a mux=on backend in a mux whose base is ID-base', () => {
    const chr = createChardev('serial0', { ...common, mux: true, backend: 'stdio', signal: false });
    expect(chr).toBeInstanceOf(MuxChardev);
    const base = (chr as MuxChardev).base;
    expect(base).toBeInstanceOf(StdioChardev);
    expect(base.id).toBe('serial0-base');
    expect((base as StdioChardev).signal).toBe(false);
  });
});

describe('ChardevRegistry', () => {
  it('rejects a duplicate id with QEMU message', () => {
    const reg = new ChardevRegistry();
    reg.define('null,id=c0');
    expect(() => reg.define('ringbuf,id=c0')).toThrow("Duplicate ID 'c0' for chardev");
  });

  it('resolves short forms: none, chardev:ID, and new chardevs under the label', () => {
    const reg = new ChardevRegistry();
    const s0 = reg.define('ringbuf,id=s0,size=64');
    expect(reg.fromSpec('serial0', 'chardev:s0')).toBe(s0);
    expect(reg.fromSpec('serial1', 'none')).toBeNull();
    expect(() => reg.fromSpec('serial1', 'chardev:nope')).toThrow("Chardev 'nope' not found");
    const mon = reg.fromSpec('compat_monitor0', 'mon:stdio');
    expect(mon).toBeInstanceOf(MuxChardev);
    expect(reg.get('compat_monitor0-base')).toBe((mon as MuxChardev).base);
    expect(reg.info()).toBe(
      's0: filename=ringbuf\ncompat_monitor0: filename=mux\ncompat_monitor0-base: filename=stdio\n',
    );
    expect(s0.path).toBe('/chardevs/s0');
  });

  it('opens and closes everything it holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-reg-'));
    try {
      const reg = new ChardevRegistry();
      const path = join(dir, 's.sock');
      const srv = reg.define(`socket,id=srv,path=${path},server=on,wait=off`) as SocketChardev;
      reg.define('null,id=n,mux=on');
      await reg.openAll();
      expect(reg.get('n')!.connected).toBe(true);
      expect(srv.connected).toBe(false);
      await reg.closeAll();
      expect(reg.get('n')!.connected).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
