/**
 * The HMP command table and parser against QEMU 7.2's monitor/hmp.c rules: command lookup with
 * `|` aliases and subcommand tables, args_type parsing (strings, expressions, `/fmt`, flags),
 * the error texts, and the `help` layout `name params -- help`.
 */
import { describe, expect, it } from 'vitest';
import {
  completions,
  HMP_COMMANDS,
  type HmpArgs,
  helpText,
  logHelp,
  type ParseContext,
  type ParseResult,
  parseCommandLine,
} from './commands.js';

function ctx(registers: Record<string, bigint> = {}): ParseContext {
  return { fmtDefaults: { format: 'x', size: 4 }, register: (n) => registers[n] };
}

function parsed(line: string, c = ctx()): { name: string; args: HmpArgs } {
  const r = parseCommandLine(line, c);
  if (r.kind !== 'command') throw new Error(`expected a command, got ${JSON.stringify(r)}`);
  return { name: r.command.name, args: r.args };
}

function errorOf(line: string, c = ctx()): string {
  const r: ParseResult = parseCommandLine(line, c);
  if (r.kind !== 'error') throw new Error(`expected an error, got ${r.kind}`);
  return r.text;
}

describe('command lookup', () => {
  it('finds commands by any of their | names and ignores blank lines', () => {
    expect(parsed('c').name).toBe('cont|c');
    expect(parsed('  cont  ').name).toBe('cont|c');
    expect(parsed('?').name).toBe('help|?');
    expect(parsed('q').name).toBe('quit|q');
    expect(parseCommandLine('   ', ctx())).toEqual({ kind: 'empty' });
  });

  it('answers an unknown command as QEMU does', () => {
    expect(errorOf('foo')).toBe("unknown command: 'foo'\n");
    expect(errorOf('  foo bar')).toBe("unknown command: 'foo'\n");
  });

  it('descends into the info table and names the whole path when a subcommand is unknown', () => {
    expect(parsed('info status').name).toBe('status');
    expect(parsed('info').name).toBe('info');
    expect(errorOf('info nope')).toBe("unknown command: 'info nope'\n");
  });
});

describe('argument parsing', () => {
  it('parses x with a format, a count and an expression address', () => {
    const { args } = parsed('x/10xw 0x20000000 + 4 * 2');
    expect(args.fmt).toEqual({ count: 10, format: 'x', size: 4 });
    expect(args.addr).toBe(0x20000008n);
  });

  it('keeps the last format and size for the next x without one (QEMU defaults x, 4)', () => {
    const c = ctx();
    expect(parsed('xp /2ub 0', c).args.fmt).toEqual({ count: 2, format: 'u', size: 1 });
    expect(parsed('xp 0', c).args.fmt).toEqual({ count: 1, format: 'u', size: 1 });
    expect(parsed('xp /3 0', c).args.fmt).toEqual({ count: 3, format: 'u', size: 1 });
    expect(parsed('xp /xg 0', c).args.fmt).toEqual({ count: 1, format: 'x', size: 8 });
  });

  it('takes the format letters in any order, later ones winning', () => {
    expect(parsed('x/4hd 0').args.fmt).toEqual({ count: 4, format: 'd', size: 2 });
    expect(parsed('x/bxo 0').args.fmt).toEqual({ count: 1, format: 'o', size: 1 });
    expect(parsed('x/2L 0').args.fmt).toEqual({ count: 2, format: 'x', size: 8 });
  });

  it('evaluates expressions with QEMU precedence, octal, characters and registers', () => {
    const c = ctx({ sp: 0x20003ff0n });
    expect(parsed('xp 1 + 2 * 3', c).args.addr).toBe(7n);
    expect(parsed('xp (1 + 2) * 3', c).args.addr).toBe(9n);
    expect(parsed('xp 010', c).args.addr).toBe(8n);
    expect(parsed("xp 'A'", c).args.addr).toBe(65n);
    expect(parsed('xp 0xff & ~0xf | 1', c).args.addr).toBe(0xf1n);
    expect(parsed('xp $sp - 0x10', c).args.addr).toBe(0x20003fe0n);
    expect(parsed('xp -1', c).args.addr).toBe(-1n);
  });

  it('reports bad formats and expressions with QEMU messages and the help hint', () => {
    expect(errorOf('x/3z 0')).toBe(`invalid char in format: 'z'\nTry "help x" for more information\n`);
    expect(errorOf('x')).toBe(`unexpected end of expression\nTry "help x" for more information\n`);
    expect(errorOf('xp foo')).toBe(`invalid char 'f' in expression\nTry "help xp" for more information\n`);
    expect(errorOf('xp 1/0')).toBe(`division by zero\nTry "help xp" for more information\n`);
    expect(errorOf('xp (1')).toBe(`')' expected\nTry "help xp" for more information\n`);
    expect(errorOf('xp $nope')).toBe(`unknown register\nTry "help xp" for more information\n`);
    expect(errorOf('xp 0x1ffffffffffffffff')).toBe(`number too large\nTry "help xp" for more information\n`);
  });

  it('rejects leftover text, missing strings and unknown flags', () => {
    expect(errorOf('stop now')).toBe(
      `stop|s: extraneous characters at the end of line\nTry "help stop" for more information\n`,
    );
    expect(errorOf('log')).toBe(`log: string expected\nTry "help log" for more information\n`);
    expect(errorOf('logfile')).toBe(`logfile: filename expected\nTry "help logfile" for more information\n`);
    expect(errorOf('info mtree -z')).toBe(
      `mtree: unsupported option -z\nTry "help info mtree" for more information\n`,
    );
  });

  it('parses flags in their declared order (as QEMU) and optional arguments', () => {
    expect(parsed('info mtree -f').args).toEqual({ flatview: true });
    expect(parsed('info mtree -f -o').args).toEqual({ flatview: true, owner: true });
    expect(errorOf('info mtree -o -f')).toBe(
      `mtree: unsupported option -f\nTry "help info mtree" for more information\n`,
    );
    expect(parsed('info registers -a').args).toEqual({ cpustate_all: true });
    expect(parsed('info registers 0').args).toEqual({ vcpu: 0n });
    expect(parsed('info qom-tree /machine/nrf51').args).toEqual({ path: '/machine/nrf51' });
    expect(parsed('gdbserver').args).toEqual({});
    expect(parsed('logfile "/tmp/a b.log"').args).toEqual({ filename: '/tmp/a b.log' });
    expect(parsed('help info   status').args).toEqual({ name: 'info   status' });
  });

  it('refuses a vcpu index beyond 32 bits (type i)', () => {
    expect(errorOf('info registers 0x100000000')).toBe(
      `'registers' has failed: integer is for 32-bit values\nTry "help info registers" for more information\n`,
    );
  });
});

describe('help', () => {
  it('lists every command as "name params -- help"', () => {
    const text = helpText();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(HMP_COMMANDS.length);
    expect(lines).toContain('x /fmt addr -- dump memory at virtual address addr');
    // Commands without parameters keep both spaces around the empty params, as in QEMU.
    expect(lines.find((l) => l.startsWith('cont|c'))).toBe('cont|c  -- start or resume the machine');
  });

  it('shows one command, info subcommands with their prefix, and unknown topics', () => {
    expect(helpText('xp')).toBe('xp /fmt addr -- dump memory at physical address addr\n');
    expect(helpText('c')).toBe('cont|c  -- start or resume the machine\n');
    expect(helpText('info status')).toBe('info status  -- show whether the machine runs (running|paused)\n');
    expect(helpText('info').split('\n')[0]).toBe('info version  -- show the version of tsemu');
    expect(helpText('nope')).toBe("unknown command: 'nope'\n");
    expect(helpText('info nope')).toBe("unknown command: 'info nope'\n");
  });

  it('answers help log with the log items, 15 columns wide', () => {
    expect(helpText('log')).toBe(logHelp());
    const lines = logHelp().split('\n');
    expect(lines[0]).toBe('Log items (comma separated):');
    expect(lines[1]).toBe('none            remove all logs');
    expect(lines).toContain(
      `${'guest_errors'.padEnd(15)} log when the guest OS does something invalid (bad register offsets, bad values)`,
    );
  });
});

describe('completion', () => {
  it('completes command names, info subcommands and help topics', () => {
    expect(completions('sys')).toEqual({ typed: 3, candidates: ['system_reset', 'system_powerdown'] });
    expect(completions('info q')).toEqual({ typed: 1, candidates: ['qtree', 'qom-tree'] });
    expect(completions('help xp')).toEqual({ typed: 2, candidates: ['xp'] });
    expect(completions('').candidates).toContain('info');
    expect(completions('x 0 ')).toEqual({ typed: 0, candidates: [] });
  });
});
