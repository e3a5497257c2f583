import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { parseSeed, parseSystemCommandLine } from './parse.js';

/** Splits a command line on spaces (the test lines have no quoted words). */
function parse(line: string) {
  return parseSystemCommandLine(line.split(' ').filter((w) => w !== ''));
}

function errorOf(argv: string[]): string {
  try {
    parseSystemCommandLine(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).message;
  }
  throw new Error('expected a UserError');
}

describe('libqtest launch lines', () => {
  it('parses the QEMU 7.2 line', () => {
    const cl = parse(
      '-qtest unix:/tmp/qtest-1234.sock -qtest-log /dev/null -chardev socket,path=/tmp/qtest-1234.qmp,id=char0 ' +
        '-mon chardev=char0,mode=control -display none -M microbit -accel qtest',
    );
    expect(cl.qtest).toBe('unix:/tmp/qtest-1234.sock');
    expect(cl.qtestLog).toBe('/dev/null');
    expect(cl.chardevs).toEqual([
      { id: 'char0', backend: 'socket', props: new Map([['path', '/tmp/qtest-1234.qmp']]) },
    ]);
    expect(cl.monitors).toEqual([{ chardev: 'char0', mode: 'control', pretty: false }]);
    expect(cl.display).toEqual({ type: 'none', props: new Map() });
    expect(cl.machine.type).toBe('microbit');
    expect(cl.accel).toEqual([{ name: 'qtest', props: new Map() }]);
    expect(cl.startStopped).toBe(false);
    expect(cl.defaults.monitor).toBe(false);
    expect(cl.defaults.serial).toBe(true);
    expect(cl.helpRequests).toEqual([]);
  });

  it('parses the newer line with -audio none and -run-with exit-with-parent=on', () => {
    const cl = parse(
      '-trace qtest* -qtest unix:/tmp/qtest-9.sock -qtest-log /dev/fd/2 -chardev socket,path=/tmp/qtest-9.qmp,id=char0 ' +
        '-mon chardev=char0,mode=control -display none -audio none -run-with exit-with-parent=on -M microbit -accel qtest',
    );
    expect(cl.audio).toEqual({ driver: 'none', props: new Map() });
    expect(cl.runWith?.get('exit-with-parent')).toBe('on');
    expect(cl.trace.enable).toEqual(['qtest*']);
    expect(cl.qtestLog).toBe('/dev/fd/2');
  });

  it('parses the serial form that prepends a client socket chardev', () => {
    const cl = parse(
      '-qtest unix:/tmp/qtest-1.sock -qtest-log /dev/null -chardev socket,path=/tmp/qtest-1.qmp,id=char0 ' +
        '-mon chardev=char0,mode=control -display none -chardev socket,id=s0,path=/tmp/qtest-serial-AbC123/sock ' +
        '-serial chardev:s0 -M microbit -accel qtest',
    );
    expect(cl.chardevs.map((c) => c.id)).toEqual(['char0', 's0']);
    expect(cl.chardevs[1]!.props.get('path')).toBe('/tmp/qtest-serial-AbC123/sock');
    expect(cl.serial).toEqual(['chardev:s0']);
    expect(cl.defaults.serial).toBe(false);
  });

  it('parses -machine none', () => {
    const cl = parse('-machine none -accel qtest');
    expect(cl.machine.type).toBe('none');
  });
});

describe('machine and accelerator', () => {
  it('reads accel=qtest in -machine as the accelerator, not a machine property', () => {
    const cl = parse('-machine microbit,accel=qtest');
    expect(cl.machine).toEqual({ type: 'microbit', props: new Map() });
    expect(cl.accel).toEqual([{ name: 'qtest', props: new Map() }]);
  });

  it('reads a colon list in -machine accel= as accelerators in order', () => {
    expect(parse('-machine accel=kvm:tcg').accel.map((a) => a.name)).toEqual(['kvm', 'tcg']);
  });

  it('merges several -machine options', () => {
    const cl = parse('-M microbit -machine foo=1 -machine foo=2,bar=on');
    expect(cl.machine.type).toBe('microbit');
    expect(cl.machine.props).toEqual(
      new Map([
        ['foo', '2'],
        ['bar', 'on'],
      ]),
    );
  });

  it('keeps -accel properties', () => {
    expect(parse('-accel tcg,thread=single').accel).toEqual([
      { name: 'tcg', props: new Map([['thread', 'single']]) },
    ]);
  });

  it('refuses -accel together with -machine accel=, as QEMU does', () => {
    expect(errorOf(['-accel', 'qtest', '-machine', 'accel=qtest'])).toBe(
      'The -accel and "-machine accel=" options are incompatible',
    );
  });
});

describe('devices, globals, drives and objects', () => {
  it('parses -device loader with its properties', () => {
    const cl = parse('-device loader,file=x.hex,addr=0x1000,cpu-num=0,force-raw=on');
    expect(cl.devices).toEqual([
      {
        driver: 'loader',
        props: new Map([
          ['file', 'x.hex'],
          ['addr', '0x1000'],
          ['cpu-num', '0'],
          ['force-raw', 'on'],
        ]),
        json: false,
      },
    ]);
  });

  it('parses the JSON form of -device with single or double quotes', () => {
    const single = parseSystemCommandLine([
      '-device',
      "{'driver':'virtio-mouse-pci','bus':'b1','id':'dev0'}",
    ]);
    expect(single.devices).toEqual([
      { driver: 'virtio-mouse-pci', id: 'dev0', props: new Map([['bus', 'b1']]), json: true },
    ]);
    const double = parseSystemCommandLine([
      '-device',
      '{"driver": "virtio-mouse-pci", "bus": "b1", "id": "dev0"}',
    ]);
    expect(double.devices).toEqual(single.devices);
  });

  it('keeps devices in command-line order and separates the id', () => {
    const cl = parse('-device a,id=x -device b -device c,id=y,p=1');
    expect(cl.devices.map((d) => [d.driver, d.id])).toEqual([
      ['a', 'x'],
      ['b', undefined],
      ['c', 'y'],
    ]);
    expect(cl.devices[2]!.props).toEqual(new Map([['p', '1']]));
  });

  it('rejects a -device without a driver, a bad id and a duplicate id', () => {
    expect(errorOf(['-device', 'id=x'])).toBe("-device id=x: Parameter 'driver' is missing");
    expect(errorOf(['-device', 'loader,id=1x'])).toBe(
      "-device loader,id=1x: Parameter 'id' expects an identifier\n" +
        "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
    );
    expect(errorOf(['-device', 'a,id=d', '-device', 'b,id=d'])).toBe(
      "-device b,id=d: Duplicate ID 'd' for device",
    );
  });

  it('parses -global in both forms', () => {
    const cl = parseSystemCommandLine([
      '-global',
      'mch.extended-tseg-mbytes=16',
      '-global',
      'driver=nrf51-soc,property=flash-size,value=262144',
    ]);
    expect(cl.globals).toEqual([
      { driver: 'mch', property: 'extended-tseg-mbytes', value: '16' },
      { driver: 'nrf51-soc', property: 'flash-size', value: '262144' },
    ]);
  });

  it('parses -drive and -object as used by the q35/nvme tests', () => {
    const cl = parse(
      '-drive id=drv0,if=none,file=null-co://,file.read-zeroes=on,format=raw ' +
        '-object memory-backend-ram,id=pmr0,share=on,size=8',
    );
    expect(cl.drives).toEqual([
      new Map([
        ['id', 'drv0'],
        ['if', 'none'],
        ['file', 'null-co://'],
        ['file.read-zeroes', 'on'],
        ['format', 'raw'],
      ]),
    ]);
    expect(cl.objects).toEqual([
      {
        qomType: 'memory-backend-ram',
        id: 'pmr0',
        props: new Map([
          ['share', 'on'],
          ['size', '8'],
        ]),
        json: false,
      },
    ]);
  });

  it('requires an id for -object', () => {
    expect(errorOf(['-object', 'memory-backend-ram,size=8'])).toBe(
      "-object memory-backend-ram,size=8: Parameter 'id' is missing",
    );
  });
});

describe('character devices, serial ports and monitors', () => {
  it('parses -serial specs in order, including none and mon:stdio', () => {
    const cl = parse('-serial mon:stdio -serial none -serial file:out.txt');
    expect(cl.serial).toEqual(['mon:stdio', 'none', 'file:out.txt']);
  });

  it('reads legacy socket flags in -chardev', () => {
    const cl = parse('-chardev socket,id=mon0,host=localhost,port=4444,server,nowait');
    expect(cl.chardevs[0]).toEqual({
      id: 'mon0',
      backend: 'socket',
      props: new Map([
        ['host', 'localhost'],
        ['port', '4444'],
        ['server', 'on'],
        ['wait', 'off'],
      ]),
    });
  });

  it('rejects a -chardev without id and a duplicate chardev id', () => {
    expect(errorOf(['-chardev', 'stdio'])).toBe("-chardev stdio: Parameter 'id' is missing");
    expect(errorOf(['-chardev', 'null,id=a', '-chardev', 'stdio,id=a'])).toBe(
      "-chardev stdio,id=a: Duplicate ID 'a' for chardev",
    );
  });

  it('parses -monitor, -qmp, -qmp-pretty and -mon', () => {
    const cl = parse(
      '-monitor stdio -qmp unix:/tmp/q.sock,server=on,wait=off -qmp-pretty tcp::4444,server=on ' +
        '-mon chardev=c1,mode=control,pretty=on -mon c2',
    );
    expect(cl.monitors).toEqual([
      { spec: 'stdio', mode: 'readline', pretty: false },
      { spec: 'unix:/tmp/q.sock,server=on,wait=off', mode: 'control', pretty: false },
      { spec: 'tcp::4444,server=on', mode: 'control', pretty: true },
      { chardev: 'c1', mode: 'control', pretty: true },
      { chardev: 'c2', mode: 'readline', pretty: false },
    ]);
  });

  it('reads -monitor none as "no default monitor"', () => {
    const cl = parse('-monitor none');
    expect(cl.monitors).toEqual([]);
    expect(cl.defaults.monitor).toBe(false);
  });

  it('rejects a bad -mon mode or pretty value', () => {
    expect(errorOf(['-mon', 'chardev=c,mode=json'])).toBe(
      "-mon chardev=c,mode=json: Parameter 'mode' expects 'readline' or 'control'",
    );
    expect(errorOf(['-mon', 'chardev=c,pretty=2'])).toBe(
      "-mon chardev=c,pretty=2: Parameter 'pretty' expects 'on' or 'off'",
    );
  });

  it('clears every default device with -nodefaults', () => {
    expect(parse('-nodefaults').defaults).toEqual({ serial: false, parallel: false, monitor: false });
  });
});

describe('debugging, display and run control', () => {
  it('reads -s -S as a GDB server on tcp::1234 with the CPU stopped', () => {
    const cl = parse('-s -S');
    expect(cl.gdb).toBe('tcp::1234');
    expect(cl.startStopped).toBe(true);
  });

  it('reads -gdb SPEC, the last one winning', () => {
    expect(parse('-gdb tcp::3333').gdb).toBe('tcp::3333');
    expect(parse('-s -gdb tcp::3333').gdb).toBe('tcp::3333');
  });

  it('reads -nographic as no display', () => {
    const cl = parse('-nographic');
    expect(cl.nographic).toBe(true);
    expect(cl.display).toEqual({ type: 'none', props: new Map() });
  });

  it('reads -display with properties', () => {
    expect(parse('-display web,port=8080').display).toEqual({
      type: 'web',
      props: new Map([['port', '8080']]),
    });
  });

  it('reads -icount with keys or a bare shift', () => {
    expect(parse('-icount shift=6,sleep=off').icount).toEqual({
      spec: 'shift=6,sleep=off',
      props: new Map([
        ['shift', '6'],
        ['sleep', 'off'],
      ]),
    });
    expect(parse('-icount 6').icount?.props.get('shift')).toBe('6');
  });

  it('reads logging options', () => {
    const cl = parse('-d unimp,guest_errors -D /tmp/log.txt -dfilter 0x1000+0x100');
    expect(cl.log).toEqual({ items: 'unimp,guest_errors', file: '/tmp/log.txt', dfilter: '0x1000+0x100' });
  });

  it('reads -trace patterns in both forms', () => {
    const cl = parse('-trace nrf51_* -trace enable=qtest*,file=/tmp/t.log -trace events=/tmp/ev');
    expect(cl.trace).toEqual({ enable: ['nrf51_*', 'qtest*'], eventsFiles: ['/tmp/ev'], file: '/tmp/t.log' });
  });

  it('reads flags for reboot and shutdown behaviour', () => {
    const cl = parse('-no-reboot -no-shutdown');
    expect(cl.noReboot).toBe(true);
    expect(cl.noShutdown).toBe(true);
  });

  it('reads -kernel with -append and -initrd', () => {
    expect(parse('-kernel fw.elf -append quiet -initrd rd.img').kernel).toEqual({
      file: 'fw.elf',
      append: 'quiet',
      initrd: 'rd.img',
    });
  });

  it('refuses -append and -initrd without -kernel', () => {
    expect(errorOf(['-append', 'x'])).toBe('-append only allowed with -kernel option');
    expect(errorOf(['-initrd', 'x'])).toBe('-initrd only allowed with -kernel option');
  });

  it('reads the remaining simple options', () => {
    const cl = parse(
      '-cpu cortex-m0 -smp 1 -name board1 -rtc base=utc -L /usr/share/x -bios b.bin -snapshot -usb -vga none ' +
        '-boot order=c -loadvm snap1 -pidfile /tmp/pid -parallel none -no-user-config',
    );
    expect(cl.cpu).toBe('cortex-m0');
    expect(cl.smp).toEqual(new Map([['cpus', '1']]));
    expect(cl.name).toBe('board1');
    expect(cl.rtc).toEqual(new Map([['base', 'utc']]));
    expect(cl.dataDirs).toEqual(['/usr/share/x']);
    expect(cl.bios).toBe('b.bin');
    expect(cl.snapshot).toBe(true);
    expect(cl.usb).toBe(true);
    expect(cl.vga).toBe('none');
    expect(cl.boot).toEqual(new Map([['order', 'c']]));
    expect(cl.loadvm).toBe('snap1');
    expect(cl.pidfile).toBe('/tmp/pid');
    expect(cl.parallel).toEqual(['none']);
    expect(cl.defaults.parallel).toBe(false);
  });
});

describe('-m and -seed', () => {
  it('reads -m sizes, a bare number being MiB', () => {
    expect(parse('-m 16M').memory?.size).toBe(16 * 2 ** 20);
    expect(parse('-m 16').memory?.size).toBe(16 * 2 ** 20);
    expect(parse('-m 1G').memory?.size).toBe(2 ** 30);
    expect(parse('-m size=512k,slots=2,maxmem=1G').memory).toEqual({
      size: 512 * 1024,
      props: new Map([
        ['slots', '2'],
        ['maxmem', '1G'],
      ]),
    });
  });

  it("rejects a bad -m size with QEMU's message", () => {
    expect(errorOf(['-m', '16X'])).toBe(
      "-m 16X: Parameter 'size' expects a non-negative number below 2^64\n" +
        'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n' +
        'and exabytes, respectively.',
    );
    expect(errorOf(['-m', '?'])).toMatch(/^-m \?: Parameter 'size' expects/);
  });

  it('reads -seed in decimal, hexadecimal and octal', () => {
    expect(parse('-seed 42').seed).toBe(42n);
    expect(parse('-seed 0x10').seed).toBe(16n);
    expect(parse('-seed 010').seed).toBe(8n);
    expect(parse('-seed 0').seed).toBe(0n);
    expect(parseSeed('18446744073709551615')).toBe(2n ** 64n - 1n);
  });

  it("rejects a bad -seed with QEMU's message", () => {
    expect(errorOf(['-seed', 'abc'])).toBe('-seed abc: Invalid seed number: abc');
    expect(errorOf(['-seed', '-1'])).toBe('-seed -1: Invalid seed number: -1');
    expect(errorOf(['-seed', '18446744073709551616'])).toBe(
      '-seed 18446744073709551616: Invalid seed number: 18446744073709551616',
    );
  });
});

describe('help requests', () => {
  it('records help requests that QEMU handles after reading the whole line', () => {
    const cl = parse(
      '-M help -device help -device loader,help -cpu help -d help -chardev help -chardev socket,help',
    );
    expect(cl.helpRequests).toEqual([
      { option: 'machine' },
      { option: 'device' },
      { option: 'device', subject: 'loader' },
      { option: 'cpu' },
      { option: 'd' },
      { option: 'chardev' },
      { option: 'chardev', subject: 'socket' },
    ]);
    expect(cl.devices).toEqual([]);
  });

  it('accepts "?" for help', () => {
    expect(parse('-machine ?').helpRequests).toEqual([{ option: 'machine' }]);
    expect(parse('-device ?').helpRequests).toEqual([{ option: 'device' }]);
  });

  it('stops at -h and -version, so later mistakes are not reported', () => {
    expect(parse('-h -m 16X').helpRequests).toEqual([{ option: 'help' }]);
    expect(parse('-help').helpRequests).toEqual([{ option: 'help' }]);
    expect(parse('-version -seed x').helpRequests).toEqual([{ option: 'version' }]);
  });

  it('stops at -accel help and -display help', () => {
    expect(parse('-accel help -seed x').helpRequests).toEqual([{ option: 'accel' }]);
    expect(parse('-display help -seed x').helpRequests).toEqual([{ option: 'display' }]);
  });

  it('still reports an unknown option after -h, as QEMU checks all options first', () => {
    expect(errorOf(['-h', '-foo'])).toBe('-foo: invalid option');
  });
});

describe('option spelling and errors', () => {
  it('accepts --opt for -opt', () => {
    const cl = parse('--machine microbit --accel qtest --nographic --S --serial stdio');
    expect(cl.machine.type).toBe('microbit');
    expect(cl.accel[0]!.name).toBe('qtest');
    expect(cl.nographic).toBe(true);
    expect(cl.startStopped).toBe(true);
    expect(cl.serial).toEqual(['stdio']);
  });

  it('takes the next word as the argument even when it starts with "-"', () => {
    expect(parse('-kernel k -append -v').kernel?.append).toBe('-v');
  });

  it('reports an unknown option as written', () => {
    expect(errorOf(['-foo'])).toBe('-foo: invalid option');
    expect(errorOf(['--foo'])).toBe('--foo: invalid option');
    expect(errorOf(['-M', 'microbit', '-'])).toBe('-: invalid option');
  });

  it('reports a missing argument', () => {
    expect(errorOf(['-m'])).toBe('-m: requires an argument');
    expect(errorOf(['-M', 'microbit', '--serial'])).toBe('--serial: requires an argument');
  });

  it('rejects -daemonize with a reason', () => {
    expect(errorOf(['-daemonize'])).toMatch(/^-daemonize: tsemu does not daemonize/);
  });

  it('rejects a stray argument and says how to run a file', () => {
    const message = errorOf(['-M', 'microbit', 'prog.hex']);
    expect(message).toMatch(/^prog\.hex: disk image arguments are not supported/);
    expect(message).toContain("'tsemu prog.hex'");
    expect(message).toContain("'-kernel prog.hex'");
    expect(message).toContain("'-device loader,file=prog.hex'");
  });

  it('gives an empty command line its defaults', () => {
    const cl = parseSystemCommandLine([]);
    expect(cl.machine).toEqual({ props: new Map() });
    expect(cl.accel).toEqual([]);
    expect(cl.defaults).toEqual({ serial: true, parallel: true, monitor: true });
    expect(cl.display).toBeUndefined();
  });
});
