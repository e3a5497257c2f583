import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allForms, FIXTURE_CLASSES } from './catalogue.js';
import type { GoldenFile, GoldenVector } from './format.js';
import { diffVector, GoldenHarness } from './harness.js';
import { takeHardFault } from './manual.js';

const FIXTURES = fileURLToPath(new URL('../../../../test-fixtures/armv6m-golden/', import.meta.url));

function loadFixtures(): Map<string, GoldenVector[]> {
  const byForm = new Map<string, GoldenVector[]>();
  for (const cls of FIXTURE_CLASSES) {
    const file = `${FIXTURES}${cls}.json`;
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as GoldenFile;
    for (const v of data.vectors) {
      const list = byForm.get(v.form) ?? [];
      list.push(v);
      byForm.set(v.form, list);
    }
  }
  return byForm;
}

const byForm = loadFixtures();
const harness = new GoldenHarness();

describe('ARMv6-M golden vectors recorded from QEMU', () => {
  it('cover every form of the catalogue with at least 10,000 vectors in all', () => {
    const missing = allForms()
      .map((f) => f.name)
      .filter((name) => !byForm.has(name));
    expect(missing).toEqual([]);
    let total = 0;
    for (const list of byForm.values()) total += list.length;
    expect(total).toBeGreaterThanOrEqual(10000);
  });

  it("model QEMU's HardFault entry the way the manual's fault states (manual.ts) do", () => {
    // Faults QEMU gets right, raised by the vector's own instruction: the manual's exception
    // entry applied to `before` must give QEMU's `after`. This validates the model that the
    // "manual:" vectors rely on.
    const forms = [
      'UDF #imm8',
      'UDF.W #imm16',
      'BKPT #imm8',
      'LDR Rt, [Rn] unaligned',
      'STR Rt, [Rn] unmapped',
    ];
    let checked = 0;
    for (const form of forms) {
      for (const v of byForm.get(form) ?? []) {
        const model = takeHardFault({ state: v.before, memory: v.memBefore, returnAddress: v.before.r[15]! });
        expect({ id: v.id, ...model }).toEqual({ id: v.id, after: v.after, memAfter: v.memAfter });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  for (const [form, vectors] of byForm) {
    it(`replays ${form} (${vectors.length} vectors)`, () => {
      const failures: string[] = [];
      let failed = 0;
      for (const v of vectors) {
        const diffs = diffVector(v, harness.replay(v));
        if (diffs.length > 0) {
          failed++;
          // Report a few with full detail; the count says how widespread it is.
          if (failures.length < 5) {
            const code = v.code.map((h) => h.toString(16).padStart(4, '0')).join(' ');
            failures.push(`${v.id} [${form}] code ${code}: ${diffs.join('; ')}`);
          }
        }
      }
      if (failed > 5) failures.push(`... ${failed} of ${vectors.length} vectors fail`);
      expect(failures).toEqual([]);
    });
  }
});
