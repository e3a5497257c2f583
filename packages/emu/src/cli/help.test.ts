import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packageVersion, systemHelpText, versionText, wrapWords } from './help.js';
import { SYSTEM_OPTIONS } from './options.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('versionText', () => {
  it("reports the engine package's version", () => {
    expect(packageVersion()).toBe(packageJson.version);
    expect(versionText().split('\n')[0]).toBe(`tsemu-system-arm version ${packageJson.version} (tsemu)`);
  });

  it('ends with a licence line and a newline', () => {
    const text = versionText();
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toMatch(/MIT licence/);
  });
});

describe('systemHelpText', () => {
  const text = systemHelpText('tsemu-system-arm');

  it('starts with a usage line naming the program', () => {
    expect(text.split('\n')[0]).toBe('usage: tsemu-system-arm [options]');
    expect(systemHelpText('x').split('\n')[0]).toBe('usage: x [options]');
  });

  it('lists every supported option under its category', () => {
    for (const def of SYSTEM_OPTIONS) {
      if (def.unsupported !== undefined) {
        expect(text).not.toMatch(new RegExp(`^-${def.name}\\b`, 'm'));
      } else {
        expect(text).toMatch(new RegExp(`^-${def.name}\\b`, 'm'));
      }
    }
    expect(text).toMatch(/^Standard options:$/m);
    expect(text).toMatch(/^Debug\/Expert options:$/m);
    expect(text.indexOf('Standard options:')).toBeLessThan(text.indexOf('-machine, -M'));
  });

  it('shows aliases and argument forms', () => {
    expect(text).toMatch(/^-machine, -M \[type=\]name/m);
    expect(text).toMatch(/^-help, -h +print this help/m);
  });
});

describe('wrapWords', () => {
  it('breaks at spaces within the width and keeps long words whole', () => {
    expect(wrapWords('aa bb cc dd', 5)).toEqual(['aa bb', 'cc dd']);
    expect(wrapWords('averyverylongword x', 5)).toEqual(['averyverylongword', 'x']);
    expect(wrapWords('', 5)).toEqual(['']);
  });
});

describe('systemHelpText layout', () => {
  it('keeps help lines within 100 columns unless an option usage itself is longer', () => {
    for (const line of systemHelpText('tsemu-system-arm').split('\n')) {
      if (line.startsWith(' ')) expect(line.length, line).toBeLessThanOrEqual(100);
    }
  });
});
