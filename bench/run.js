/**
 * Runs the benchmarks: every `bench/*.bench.js`, or only the groups matching the filters.
 *
 *   node bench/run.js [FILTER...] [--ms=N]
 *
 * A FILTER (case-insensitive substring) selects a whole file when it matches the file's name
 * (`core` for core.bench.js) and otherwise the groups whose name it matches (`memory`, `time`).
 * `--ms=N` sets the measuring time per case (default 400 ms, after a 100 ms warm-up).
 *
 * Each bench file exports `groups()`, returning the groups for `runGroup` (see harness.js),
 * or `run()` for whole-program benchmarks that time emulators end to end;
 * a group may carry `skipped` (a reason; it is reported and not run) and `bytesPerOp` (its
 * rates are then also given in MB/s). Results go to bench/out/bench-<date>.json.
 *
 * The engine is imported from packages/emu/dist: build first (`npm run bench` does).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runGroup } from './harness.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const distEntry = join(benchDir, '..', 'packages', 'emu', 'dist', 'core', 'address-space.js');

function usage(message) {
  console.error(`bench: ${message}`);
  console.error('usage: node bench/run.js [FILTER...] [--ms=N]');
  process.exit(2);
}

const filters = [];
const options = {};
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith('--ms=')) {
    const ms = Number(arg.slice('--ms='.length));
    if (!Number.isFinite(ms) || ms <= 0)
      usage(`--ms expects a positive number of milliseconds, got '${arg}'`);
    options.ms = ms;
  } else if (arg === '--help' || arg === '-h') {
    usage('runs bench/*.bench.js');
  } else if (arg.startsWith('-')) {
    usage(`unknown option '${arg}'`);
  } else {
    filters.push(arg.toLowerCase());
  }
}

if (!existsSync(distEntry)) {
  console.error('bench: the engine is not built (packages/emu/dist is missing); run `npm run build` first');
  process.exit(1);
}

const matches = (text) => filters.some((f) => text.toLowerCase().includes(f));

const started = new Date();
const cpuList = cpus();
const host = {
  node: process.version,
  v8: process.versions.v8,
  platform: `${platform()} ${release()} ${process.arch}`,
  cpu: cpuList[0]?.model.trim() ?? 'unknown',
  cores: cpuList.length,
};
console.log('# tsemu benchmarks');
console.log(`date:     ${started.toISOString()}`);
console.log(`node:     ${host.node} (V8 ${host.v8})`);
console.log(`platform: ${host.platform}`);
console.log(`cpu:      ${host.cpu} x ${host.cores}`);
if (filters.length > 0) console.log(`filter:   ${filters.join(' ')}`);

const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.js'))
  .sort();
const results = [];
const skipped = [];
let groupsRun = 0;
for (const file of files) {
  const fileName = basename(file, '.bench.js');
  const wholeFile = filters.length === 0 || matches(fileName);
  const mod = await import(pathToFileURL(join(benchDir, file)).href);
  // Whole-program benchmarks (they time emulators end to end) export run() instead.
  if (typeof mod.run === 'function') {
    if (!wholeFile) continue;
    const programResults = await mod.run(options);
    for (const r of programResults) r.file = file;
    results.push(...programResults);
    groupsRun++;
    continue;
  }
  if (typeof mod.groups !== 'function') {
    console.error(`bench: ${file} does not export groups() or run()`);
    process.exit(1);
  }
  for (const group of mod.groups()) {
    if (!wholeFile && !matches(group.name)) continue;
    if (group.skipped) {
      console.log(`\n## ${group.name}\n  skipped: ${group.skipped}`);
      skipped.push({ file, group: group.name, reason: group.skipped });
      continue;
    }
    groupsRun++;
    const groupResults = runGroup(group, options);
    for (const r of groupResults) {
      r.file = file;
      r.reference = group.reference;
      if (group.bytesPerOp) r.mbPerSec = (r.opsPerSec * group.bytesPerOp) / 1e6;
    }
    if (group.bytesPerOp) {
      console.log(`  as throughput over the ${group.bytesPerOp}-byte input:`);
      for (const r of groupResults) {
        console.log(`  ${r.case.padEnd(44)} ${`${r.mbPerSec.toFixed(1)} MB/s`.padStart(12)}`);
      }
    }
    results.push(...groupResults);
  }
}

if (groupsRun === 0 && skipped.length === 0) {
  console.error(`bench: no benchmark group matches '${filters.join(' ')}'`);
  process.exit(1);
}

const outDir = join(benchDir, 'out');
mkdirSync(outDir, { recursive: true });
const stamp = started.toISOString().replace(/[:.]/g, '-');
const outFile = join(outDir, `bench-${stamp}.json`);
writeFileSync(
  outFile,
  `${JSON.stringify({ date: started.toISOString(), host, filters, options, results, skipped }, null, 2)}\n`,
);
console.log(`\nresults: ${outFile}`);
