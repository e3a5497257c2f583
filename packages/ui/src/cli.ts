/**
 * The command line of the web UI process (`tsemu-ui`, started by main.ts).
 *
 *   tsemu-ui --connect PATH [--port N] [--addr A] [--open|--no-open]
 *   tsemu-ui --fd N ...        (how tsemu -display web starts it)
 *
 * It prints the page's URL, serves browsers until the emulator connection closes, then exits
 * with status 0. Mistakes print one line and exit with status 1.
 */
import { DEFAULT_PORT } from './http.js';
import { runUi, type UiOptions } from './index.js';
import { UiError } from './link.js';

const USAGE = `Usage: tsemu-ui --connect PATH [options]
       tsemu-ui --fd N [options]

Serves the web UI of a tsemu machine: the micro:bit board, its serial terminal and the monitor.

  --connect PATH   attach to an emulator started with -display remote,socket=PATH
  --fd N           use the connection inherited as descriptor N (tsemu -display web does this)
  --port N         HTTP port (default ${DEFAULT_PORT}, or the next free one; 0: any free port)
  --addr A         address to listen on (default 127.0.0.1; 0.0.0.0 for other devices)
  --open           open the page in a browser (default)
  --no-open        only print its URL
  --help           this text
`;

export function parseArgs(argv: readonly string[]): UiOptions | 'help' {
  const options: UiOptions = { open: true };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UiError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--help':
      case '-h':
        return 'help';
      case '--connect':
        options.connect = value(i++, arg);
        break;
      case '--fd': {
        const v = value(i++, arg);
        if (!/^\d+$/.test(v)) throw new UiError(`--fd needs a descriptor number, not '${v}'`);
        options.fd = Number(v);
        break;
      }
      case '--port': {
        const v = value(i++, arg);
        if (!/^\d+$/.test(v) || Number(v) > 65535)
          throw new UiError(`--port needs a number from 0 to 65535, not '${v}'`);
        options.port = Number(v);
        break;
      }
      case '--addr':
        options.addr = value(i++, arg);
        break;
      case '--open':
        options.open = true;
        break;
      case '--no-open':
        options.open = false;
        break;
      default:
        throw new UiError(`unknown option '${arg}' (see --help)`);
    }
  }
  if ((options.connect === undefined) === (options.fd === undefined)) {
    throw new UiError('give either --connect PATH or --fd N (see --help)');
  }
  return options;
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: UiOptions | 'help';
  try {
    options = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`tsemu-ui: ${(e as Error).message}\n`);
    return 1;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const ui = await runUi(options);
    const stop = (): void => {
      void ui.close();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    await ui.done;
    return 0;
  } catch (e) {
    if (e instanceof UiError) {
      process.stderr.write(`tsemu-ui: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
