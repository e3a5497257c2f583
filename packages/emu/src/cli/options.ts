/**
 * The options `tsemu-system-arm` accepts, with QEMU's names and argument conventions.
 *
 * One table drives option lookup (is it known, does it take an argument) and the `-help` text.
 * Like QEMU, `-opt` and `--opt` name the same option, and an option that takes an argument
 * always consumes the next word, even one starting with `-`.
 */

export type OptionCategory =
  | 'Standard options'
  | 'Block device options'
  | 'USB convenience options'
  | 'Display options'
  | 'Boot image or kernel options'
  | 'Character device options'
  | 'Debug/Expert options';

/** Category order in the help text. */
export const OPTION_CATEGORIES: readonly OptionCategory[] = [
  'Standard options',
  'Block device options',
  'USB convenience options',
  'Display options',
  'Boot image or kernel options',
  'Character device options',
  'Debug/Expert options',
];

export interface OptionDef {
  /** Canonical name without the dash (`machine`). */
  name: string;
  /** Other names for the same option (`M` for `machine`). */
  aliases?: readonly string[];
  /** What the argument looks like in the help text; absent when the option takes none. */
  arg?: string;
  help: string;
  category: OptionCategory;
  /** Set when tsemu rejects the option: the reason, shown to the user. */
  unsupported?: string;
}

export const SYSTEM_OPTIONS: readonly OptionDef[] = [
  // Standard options
  { name: 'help', aliases: ['h'], help: 'print this help and exit', category: 'Standard options' },
  { name: 'version', help: 'print the version and exit', category: 'Standard options' },
  {
    name: 'machine',
    aliases: ['M'],
    arg: '[type=]name[,prop=value[,...]]',
    help: "choose the machine to emulate ('-machine help' lists them); accel=qtest selects the qtest accelerator",
    category: 'Standard options',
  },
  {
    name: 'cpu',
    arg: 'model',
    help: "choose the CPU model ('-cpu help' lists them)",
    category: 'Standard options',
  },
  {
    name: 'accel',
    arg: '[accel=]name[,prop=value[,...]]',
    help: "choose how guest code runs: 'tcg' (tsemu's interpreter) or 'qtest' (no CPU runs; for device tests)",
    category: 'Standard options',
  },
  {
    name: 'smp',
    arg: '[cpus=]n[,maxcpus=n][,sockets=n][,cores=n][,threads=n]',
    help: 'number of CPUs (each tsemu machine has a fixed number)',
    category: 'Standard options',
  },
  {
    name: 'm',
    arg: '[size=]megs[,slots=n,maxmem=size]',
    help: 'guest RAM size; a bare number means MiB, or add a unit: K, M, G',
    category: 'Standard options',
  },
  {
    name: 'name',
    arg: '[guest=]name[,debug-threads=on|off]',
    help: 'a name for this machine, shown in window titles and QMP',
    category: 'Standard options',
  },
  {
    name: 'rtc',
    arg: '[base=utc|localtime|DATE][,clock=host|rt|vm][,driftfix=none|slew]',
    help: 'where the real-time clock starts and which clock drives it',
    category: 'Standard options',
  },
  {
    name: 'audio',
    arg: '[driver=]name[,model=name]',
    help: "sound output; tsemu accepts only 'none'",
    category: 'Standard options',
  },
  {
    name: 'device',
    arg: 'driver[,prop[=value][,...]]',
    help: "add a device ('-device help' lists drivers, '-device DRIVER,help' its properties); a JSON object is accepted too",
    category: 'Standard options',
  },
  {
    name: 'global',
    arg: 'driver.prop=value',
    help: 'set the default of a property for every device of one type (also driver=D,property=P,value=V)',
    category: 'Standard options',
  },
  {
    name: 'object',
    arg: 'type,id=id[,prop=value[,...]]',
    help: "create a user object such as memory-backend-ram ('-object help' lists types); a JSON object is accepted too",
    category: 'Standard options',
  },
  {
    name: 'nodefaults',
    help: 'create no default serial port, parallel port or monitor',
    category: 'Standard options',
  },
  {
    name: 'no-user-config',
    help: 'read no user configuration files (tsemu reads none anyway)',
    category: 'Standard options',
  },
  {
    name: 'run-with',
    arg: '[exit-with-parent=on|off]',
    help: 'exit-with-parent=on: quit when the process that started tsemu exits',
    category: 'Standard options',
  },
  {
    name: 'L',
    arg: 'path',
    help: 'directory to search for firmware files (accepted; tsemu ships none)',
    category: 'Standard options',
  },

  // Block device options
  {
    name: 'drive',
    arg: '[file=file][,if=type][,format=f][,id=name][,...]',
    help: 'define a block drive (attach it with -device ...,drive=name)',
    category: 'Block device options',
  },
  {
    name: 'snapshot',
    help: 'send disk writes to a temporary copy instead of the image files',
    category: 'Block device options',
  },

  // USB
  {
    name: 'usb',
    help: "enable the machine's USB controller (tsemu's machines have none)",
    category: 'USB convenience options',
  },

  // Display options
  {
    name: 'display',
    arg: 'type[,prop=value[,...]]',
    help: "choose the display: none, term (text in this terminal) or web (browser UI); '-display help' lists them",
    category: 'Display options',
  },
  {
    name: 'nographic',
    help: 'no display: the serial port and the monitor share this terminal',
    category: 'Display options',
  },
  {
    name: 'vga',
    arg: 'type',
    help: "choose the video card (tsemu's machines have none; 'none' is accepted)",
    category: 'Display options',
  },

  // Boot image or kernel
  {
    name: 'kernel',
    arg: 'file',
    help: 'load this image (ELF, Intel HEX or raw binary) and start it',
    category: 'Boot image or kernel options',
  },
  {
    name: 'append',
    arg: 'cmdline',
    help: 'command line for the -kernel image',
    category: 'Boot image or kernel options',
  },
  {
    name: 'initrd',
    arg: 'file',
    help: 'initial RAM disk for the -kernel image',
    category: 'Boot image or kernel options',
  },
  {
    name: 'bios',
    arg: 'file',
    help: 'firmware image to load into the boot ROM or flash',
    category: 'Boot image or kernel options',
  },
  {
    name: 'boot',
    arg: '[order=drives][,once=drives][,menu=on|off][,...]',
    help: 'boot order (accepted; microcontroller machines boot from flash)',
    category: 'Boot image or kernel options',
  },

  // Character device options
  {
    name: 'chardev',
    arg: 'backend,id=id[,prop=value[,...]]',
    help: "define a character device (stdio, null, file, socket, ringbuf, ...; '-chardev help' lists them)",
    category: 'Character device options',
  },
  {
    name: 'serial',
    arg: 'dev',
    help: 'connect the next serial port to dev: stdio, null, none, file:F, unix:P, tcp:H:P, mon:stdio, chardev:ID',
    category: 'Character device options',
  },
  {
    name: 'parallel',
    arg: 'dev',
    help: "connect the next parallel port to dev (tsemu's machines have none; 'none' is accepted)",
    category: 'Character device options',
  },
  {
    name: 'monitor',
    arg: 'dev',
    help: "human monitor (HMP) on dev; 'none' disables the default one",
    category: 'Character device options',
  },
  {
    name: 'qmp',
    arg: 'dev',
    help: 'QMP (the JSON machine protocol) on dev, e.g. unix:/tmp/qmp.sock,server=on,wait=off',
    category: 'Character device options',
  },
  {
    name: 'qmp-pretty',
    arg: 'dev',
    help: 'like -qmp, with indented JSON replies',
    category: 'Character device options',
  },
  {
    name: 'mon',
    arg: '[chardev=]id[,mode=readline|control][,pretty=on|off]',
    help: 'a monitor on a character device defined with -chardev',
    category: 'Character device options',
  },

  // Debug/Expert options
  {
    name: 'S',
    help: "do not start the CPU: wait for 'cont' (monitor) or 'continue' (GDB)",
    category: 'Debug/Expert options',
  },
  { name: 's', help: 'shorthand for -gdb tcp::1234', category: 'Debug/Expert options' },
  {
    name: 'gdb',
    arg: 'dev',
    help: 'accept a GDB connection on dev (tcp::PORT, unix:PATH,server=on, ...)',
    category: 'Debug/Expert options',
  },
  {
    name: 'd',
    arg: 'item1[,...]',
    help: "log the given items: unimp, guest_errors, int, ... ('-d help' lists them)",
    category: 'Debug/Expert options',
  },
  {
    name: 'D',
    arg: 'logfile',
    help: 'write the -d log to logfile instead of stderr',
    category: 'Debug/Expert options',
  },
  {
    name: 'dfilter',
    arg: 'range1[,...]',
    help: 'log only for these address ranges (START+SIZE, START-SIZE or START..END)',
    category: 'Debug/Expert options',
  },
  {
    name: 'trace',
    arg: '[[enable=]pattern][,events=file][,file=file]',
    help: "enable trace events matching pattern ('-trace help' lists them)",
    category: 'Debug/Expert options',
  },
  {
    name: 'icount',
    arg: '[shift=N|auto][,align=on|off][,sleep=on|off]',
    help: 'count instructions for time: virtual time advances 2^N ns per instruction (deterministic runs)',
    category: 'Debug/Expert options',
  },
  {
    name: 'seed',
    arg: 'number',
    help: "seed for the machine's random number generators, so that runs repeat exactly",
    category: 'Debug/Expert options',
  },
  { name: 'no-reboot', help: 'exit instead of rebooting the guest', category: 'Debug/Expert options' },
  {
    name: 'no-shutdown',
    help: 'when the guest shuts down, stop it but keep tsemu running (inspect with the monitor)',
    category: 'Debug/Expert options',
  },
  {
    name: 'qtest',
    arg: 'dev',
    help: 'serve the qtest protocol (QEMU-style device tests) on dev',
    category: 'Debug/Expert options',
  },
  {
    name: 'qtest-log',
    arg: 'file',
    help: "log qtest traffic to file ('none' for no log; stderr when not given)",
    category: 'Debug/Expert options',
  },
  {
    name: 'loadvm',
    arg: 'tag',
    help: 'start from the saved state named tag',
    category: 'Debug/Expert options',
  },
  { name: 'pidfile', arg: 'file', help: 'write the process id to file', category: 'Debug/Expert options' },
  {
    name: 'daemonize',
    help: 'not supported',
    category: 'Debug/Expert options',
    unsupported:
      'tsemu does not daemonize; run it in the background from the shell or a service manager, with -pidfile if needed',
  },
];

const OPTIONS_BY_NAME: ReadonlyMap<string, OptionDef> = (() => {
  const byName = new Map<string, OptionDef>();
  for (const def of SYSTEM_OPTIONS) {
    byName.set(def.name, def);
    for (const alias of def.aliases ?? []) byName.set(alias, def);
  }
  return byName;
})();

/**
 * Looks up an option as written on the command line (`-m`, `--m`); undefined when unknown.
 * The word must start with `-`.
 */
export function findOption(word: string): OptionDef | undefined {
  if (!word.startsWith('-')) return undefined;
  const name = word.startsWith('--') ? word.slice(2) : word.slice(1);
  return OPTIONS_BY_NAME.get(name);
}

/** Whether the option consumes the next command-line word. */
export function takesArgument(def: OptionDef): boolean {
  return def.arg !== undefined;
}
