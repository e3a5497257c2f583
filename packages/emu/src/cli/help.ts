/**
 * `-help` and `-version` texts for `tsemu-system-arm`, built from the option table.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPTION_CATEGORIES, type OptionDef, SYSTEM_OPTIONS } from './options.js';

const PACKAGE_NAME = 'tsemu';

let cachedVersion: string | undefined;

/**
 * The version in the engine's package.json. The file is found by walking up from this module,
 * which works from `src/cli` (tests) and from `dist/cli` (the installed program) alike.
 */
export function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') {
        cachedVersion = pkg.version;
        return cachedVersion;
      }
    } catch {
      // No package.json (or not readable JSON) at this level: keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  cachedVersion = 'unknown';
  return cachedVersion;
}

/** `-version` output (ends with a newline). */
export function versionText(program = 'tsemu-system-arm'): string {
  return (
    `${program} version ${packageVersion()} (tsemu)\n` +
    'Copyright (c) the tsemu authors. Free software under the MIT licence; there is NO warranty.\n'
  );
}

const USAGE_COLUMN = 34;
const LINE_WIDTH = 100;

/** Breaks `text` into lines of at most `width` characters at spaces (a longer word stays whole). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

function optionUsage(def: OptionDef): string {
  const names = [def.name, ...(def.aliases ?? [])].map((name) => `-${name}`).join(', ');
  return def.arg === undefined ? names : `${names} ${def.arg}`;
}

/** `-help` output (ends with a newline). */
export function systemHelpText(program: string): string {
  const lines: string[] = [
    `usage: ${program} [options]`,
    '',
    'Runs a machine (e.g. -M microbit) with the interfaces of qemu-system-arm: QMP, HMP, qtest, GDB.',
    `Load firmware with -kernel FILE or -device loader,file=FILE; 'tsemu FILE' is the easy way.`,
    'Every option may also be written with two dashes (--machine).',
  ];
  for (const category of OPTION_CATEGORIES) {
    const defs = SYSTEM_OPTIONS.filter((def) => def.category === category && def.unsupported === undefined);
    if (defs.length === 0) continue;
    lines.push('', `${category}:`);
    for (const def of defs) {
      const usage = optionUsage(def);
      const helpLines = wrapWords(def.help, LINE_WIDTH - USAGE_COLUMN).map(
        (text) => ' '.repeat(USAGE_COLUMN) + text,
      );
      if (usage.length + 2 <= USAGE_COLUMN) {
        lines.push(usage + helpLines[0]!.slice(usage.length), ...helpLines.slice(1));
      } else {
        lines.push(usage, ...helpLines);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
