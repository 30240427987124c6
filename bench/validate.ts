// How long the configuration checks take on a large labs.json: 20,000 labs over 20 subscriptions, each
// selecting templates by folder, by file and with Windows separators, eight templates. Prints
//   validate-20000-labs: <ms> ms
// the first loadConfiguration in a fresh process (what a task run pays, the schema compile included),
// then the median of further runs, and the same for a labs.json where every lab has mistakes (every
// problem located by line and column).
//   node out/bench/validate.js [labCount] [--json <file>]
import * as fs from 'node:fs';
import { loadConfiguration } from '../core/config/labsConfig';
import { largeConfigurationFiles, removeConfiguration, writeConfiguration } from '../test/fixtures/config/configurationFolder';

export interface ValidationTiming {
  labCount: number;
  labsJsonBytes: number;
  /** The first run in this process, schema compile included. */
  firstMs: number;
  /** Median of the runs after the first. */
  medianMs: number;
  issues: number;
}

async function time(location: string, repetitions: number): Promise<Omit<ValidationTiming, 'labCount' | 'labsJsonBytes'>> {
  const runs: number[] = [];
  let issues = 0;
  for (let i = 0; i <= repetitions; i++) {
    const started = performance.now();
    const result = await loadConfiguration(location);
    runs.push(performance.now() - started);
    issues = result.issues.length;
  }
  const later = runs.slice(1).sort((a, b) => a - b);
  return { firstMs: runs[0], medianMs: later[Math.floor(later.length / 2)] ?? runs[0], issues };
}

/** Times loadConfiguration on a generated configuration; `broken` gives every lab two mistakes. */
export async function measureValidation(labCount: number, repetitions: number, broken = false): Promise<ValidationTiming> {
  const files = largeConfigurationFiles(labCount);
  if (broken) {
    // A misspelt property and an entry that selects nothing in every lab.
    files['labs.json'] = String(files['labs.json']).replace(/"LabName"/g, '"Labname"').replace(/"Tools\\\\Base.json"/g, '"Tool\\\\Base.json"');
  }
  const location = writeConfiguration(files);
  try {
    const labsJsonBytes = Buffer.byteLength(String(files['labs.json']));
    return { labCount, labsJsonBytes, ...(await time(location, repetitions)) };
  } finally {
    removeConfiguration(location);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const jsonAt = args.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  const labCount = Number(args.find((a, i) => /^\d+$/.test(a) && i !== jsonAt + 1) ?? 20_000);
  const repetitions = process.env.BENCH_QUICK === '1' ? 2 : 6;

  const valid = await measureValidation(labCount, repetitions);
  if (valid.issues !== 0) throw new Error(`the generated configuration has ${valid.issues} issue(s)`);
  console.log(`validate-${labCount}-labs: ${Math.round(valid.firstMs)} ms`);
  console.log(
    `  labs.json ${(valid.labsJsonBytes / 1024 / 1024).toFixed(1)} MB; first run ${Math.round(valid.firstMs)} ms (schema compile included), then median ${Math.round(valid.medianMs)} ms of ${repetitions}`,
  );
  const broken = await measureValidation(labCount, repetitions, true);
  console.log(`validate-${labCount}-labs-with-errors: ${Math.round(broken.firstMs)} ms`);
  console.log(`  ${broken.issues} issues, each with its line and column; then median ${Math.round(broken.medianMs)} ms`);
  if (jsonFile) fs.writeFileSync(jsonFile, `${JSON.stringify({ valid, broken }, null, 2)}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
