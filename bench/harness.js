/**
 * A small benchmark harness. Each case runs for a fixed host-time budget after a warm-up and
 * reports operations per second. A group names a reference case; every other case in the
 * group is reported as a ratio to that reference, measured in the same invocation.
 *
 * Benchmarks never run in `npm test`; run them with `npm run bench [-- FILTER]`.
 */
import { performance } from 'node:perf_hooks';

/** Runs `fn(n)` (which must perform `n` operations) until `ms` of host time have passed. */
export function measure(fn, { ms = 400, warmupMs = 100 } = {}) {
  let n = 1;
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) {
    fn(n);
    n = Math.min(n * 2, 1 << 20);
  }
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    fn(n);
    ops += n;
    elapsed = performance.now() - start;
  }
  return { ops, seconds: elapsed / 1000, opsPerSec: ops / (elapsed / 1000) };
}

function fmtRate(r) {
  if (r >= 1e9) return `${(r / 1e9).toFixed(2)} G/s`;
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)} M/s`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(2)} k/s`;
  return `${r.toFixed(1)} /s`;
}

/**
 * A group of cases: `{ name, reference: 'case name', cases: [{ name, setup?, run(n) }] }`. A case
 * may instead give `measured()` (a rate measured some other way) or `skip` (a reason to print).
 * Prints one line per case and returns the results for machine-readable output.
 */
export function runGroup(group, options = {}) {
  console.log(`\n## ${group.name}`);
  const results = [];
  for (const c of group.cases) {
    if (c.skip) {
      console.log(`  ${c.name.padEnd(44)} skipped: ${c.skip}`);
      continue;
    }
    // `measured()` is for rates taken outside this process (e.g. QEMU): { ops, seconds, opsPerSec }.
    const r = c.measured ? c.measured() : measure(c.setup ? c.setup() : c.run, options);
    results.push({ group: group.name, case: c.name, ...r });
  }
  const ref = results.find((r) => r.case === group.reference);
  for (const r of results) {
    const ratio =
      ref && r !== ref
        ? `  ${(r.opsPerSec / ref.opsPerSec).toFixed(3)}x of "${ref.case}"`
        : r === ref
          ? '  (reference)'
          : '';
    console.log(`  ${r.case.padEnd(44)} ${fmtRate(r.opsPerSec).padStart(12)}${ratio}`);
    r.ratio = ref ? r.opsPerSec / ref.opsPerSec : null;
  }
  return results;
}
