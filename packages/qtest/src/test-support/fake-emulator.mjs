// A tiny stand-in for a QEMU-compatible emulator, for the client library's own tests: it takes
// libqtest's command line, connects to the qtest, QMP and serial sockets as a client and answers
// a subset of the protocols. Its "machine" is 64 KiB of RAM at 0 plus three registers:
//   0xF000 OUT: writing it changes 32 output lines (IRQ raise/lower per changed bit, before OK)
//   0xF004 IN: the levels set with set_irq_in /machine/fake unnamed-gpio-in N L
//   0xE000 TX: writeb sends the byte on the serial socket; 0xE004 RX: readb pops a received byte
// On SIGTERM it exits with $FAKE_EXIT_STATUS (default 0). $FAKE_ARGV_FILE receives its argv.
// $FAKE_CRASH_ON names a qtest command that makes it print "fake crash" and exit with status 2.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';

const argv = process.argv.slice(2);
if (process.env.FAKE_ARGV_FILE) writeFileSync(process.env.FAKE_ARGV_FILE, JSON.stringify(argv));
const opt = (name, from = 0) => argv[argv.indexOf(name, from) + 1];
const qtestPath = opt('-qtest').replace(/^unix:/, '');
const chardevs = argv
  .map((a, i) => (a === '-chardev' ? argv[i + 1] : null))
  .filter((a) => a !== null)
  .map((spec) => Object.fromEntries(spec.split(',').map((kv) => kv.split('='))));
const qmpPath = chardevs.find((c) => c.id === 'char0').path;
const serialPath = chardevs.find((c) => c.id === 's0')?.path;

process.on('SIGTERM', () => process.exit(Number(process.env.FAKE_EXIT_STATUS ?? 0)));

const ram = new Uint8Array(0x10000);
let out = 0;
let inLevels = 0;
let clock = 0;
let intercepted = false;
const serialIn = [];
const serial = serialPath ? connect(serialPath) : null;
serial?.on('data', (d) => serialIn.push(...d));

const qtest = connect(qtestPath);
let pendingText = '';
qtest.setEncoding('latin1');
qtest.on('data', (chunk) => {
  pendingText += chunk;
  let nl = pendingText.indexOf('\n');
  while (nl >= 0) {
    const line = pendingText.slice(0, nl);
    pendingText = pendingText.slice(nl + 1);
    qtest.write(`${answer(line.split(' '))}\n`);
    nl = pendingText.indexOf('\n');
  }
});

const hex16 = (v) => `0x${BigInt(v).toString(16).padStart(16, '0')}`;
function load(addr, size) {
  if (addr === 0xf004) return inLevels >>> 0;
  if (addr === 0xe004) return serialIn.shift() ?? 0;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(ram[addr + i]);
  return v;
}
function store(addr, size, value) {
  if (addr === 0xf000) {
    const next = Number(BigInt.asUintN(32, value));
    for (let n = 0; n < 32; n++) {
      const was = (out >>> n) & 1;
      const now = (next >>> n) & 1;
      if (intercepted && was !== now) qtest.write(`IRQ ${now ? 'raise' : 'lower'} ${n}\n`);
    }
    out = next;
    return;
  }
  if (addr === 0xe000) {
    serial?.write(Uint8Array.of(Number(value & 0xffn)));
    return;
  }
  for (let i = 0; i < size; i++) ram[addr + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}
const sizes = { b: 1, w: 2, l: 4, q: 8 };

function answer(w) {
  const [cmd] = w;
  if (cmd === process.env.FAKE_CRASH_ON) {
    process.stderr.write('fake crash\n');
    process.exit(2);
  }
  if (cmd === 'endianness') return 'OK little';
  if (/^read[bwlq]$/.test(cmd)) return `OK ${hex16(load(Number(w[1]), sizes[cmd[4]]))}`;
  if (/^write[bwlq]$/.test(cmd)) {
    store(Number(w[1]), sizes[cmd[5]], BigInt(w[2]));
    return 'OK';
  }
  if (cmd === 'read')
    return `OK 0x${Buffer.from(ram.subarray(Number(w[1]), Number(w[1]) + Number(w[2]))).toString('hex')}`;
  if (cmd === 'write') {
    if (w[3].length < 3) return 'ERR invalid argument size';
    ram.set(Buffer.from(w[3].slice(2), 'hex').subarray(0, Number(w[2])), Number(w[1]));
    return 'OK';
  }
  if (cmd === 'b64read')
    return `OK ${Buffer.from(ram.subarray(Number(w[1]), Number(w[1]) + Number(w[2]))).toString('base64')}`;
  if (cmd === 'b64write') {
    ram.set(Buffer.from(w[3], 'base64'), Number(w[1]));
    return 'OK';
  }
  if (cmd === 'memset') {
    ram.fill(Number(w[3]), Number(w[1]), Number(w[1]) + Number(w[2]));
    return 'OK';
  }
  if (cmd === 'inb') return 'OK 0x00ff';
  if (cmd === 'clock_step') {
    clock += w[1] === undefined ? 1000 : Number(w[1]);
    return `OK ${clock}`;
  }
  if (cmd === 'clock_set') {
    clock = Math.max(clock, Number(w[1]));
    return `OK ${clock}`;
  }
  if (cmd === 'irq_intercept_out') {
    if (w[1] !== '/machine/fake') return 'FAIL Unknown device';
    intercepted = true;
    return 'OK';
  }
  if (cmd === 'set_irq_in') {
    if (w[1] !== '/machine/fake') return 'FAIL Unknown device';
    const n = Number(w[3]);
    inLevels = Number(w[4]) > 0 ? inLevels | (1 << n) : inLevels & ~(1 << n);
    return 'OK';
  }
  return `FAIL Unknown command '${cmd}'`;
}

const qmp = connect(qmpPath);
let negotiated = false;
let qmpText = '';
const send = (msg) => qmp.write(`${JSON.stringify(msg)}\r\n`);
const event = (name, data) =>
  send({ timestamp: { seconds: 1, microseconds: 2 }, event: name, ...(data ? { data } : {}) });
qmp.on('connect', () =>
  send({
    QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'fake' }, capabilities: ['oob'] },
  }),
);
qmp.setEncoding('utf8');
qmp.on('data', (chunk) => {
  qmpText += chunk;
  let nl = qmpText.indexOf('\n');
  while (nl >= 0) {
    const msg = JSON.parse(qmpText.slice(0, nl));
    qmpText = qmpText.slice(nl + 1);
    const reply = (body) => send({ ...body, ...(msg.id !== undefined ? { id: msg.id } : {}) });
    const fail = (cls, desc) => reply({ error: { class: cls, desc } });
    if (msg.execute === 'qmp_capabilities') {
      if (negotiated)
        fail('CommandNotFound', 'Capabilities negotiation is already complete, command ignored');
      else reply({ return: {} });
      negotiated = true;
    } else if (!negotiated) {
      fail('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'");
    } else if (msg.execute === 'stop') {
      event('STOP');
      reply({ return: {} });
    } else if (msg.execute === 'query-status') {
      reply({ return: { status: 'running', singlestep: false, running: true } });
    } else if (msg.execute === 'qom-get') {
      fail('DeviceNotFound', `Device '${msg.arguments.path}' not found`);
    } else {
      fail('CommandNotFound', `The command ${msg.execute} has not been found`);
    }
    nl = qmpText.indexOf('\n');
  }
});
