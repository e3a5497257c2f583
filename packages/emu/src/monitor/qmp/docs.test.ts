import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { QMP_COMMANDS } from './commands.js';
import { renderQmpDocs } from './docs.js';
import { QMP_EVENTS } from './events.js';

const DOC = fileURLToPath(new URL('../../../../../docs/qmp.md', import.meta.url));

describe('docs/qmp.md', () => {
  it('is what the command and event declarations generate (TSEMU_UPDATE_DOCS=1 rewrites it)', () => {
    const expected = renderQmpDocs();
    if (process.env.TSEMU_UPDATE_DOCS === '1') writeFileSync(DOC, expected);
    expect(readFileSync(DOC, 'utf8')).toBe(expected);
  });

  it('documents every command and event', () => {
    const doc = renderQmpDocs();
    for (const c of QMP_COMMANDS) expect(doc).toContain(`\n### ${c.name}\n`);
    for (const e of QMP_EVENTS) expect(doc).toContain(`\n### ${e.name}\n`);
  });
});
