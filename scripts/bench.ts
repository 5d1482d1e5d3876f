/**
 * `npm run bench`: runs every benchmark section in scripts/bench/ (or the ones named on the
 * command line) and prints their figures. Targets are checked and reported, not asserted in tests.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

export interface BenchSection {
  name: string;
  run(): Promise<{ ok: boolean }>;
}

const dir = join(dirname(fileURLToPath(import.meta.url)), 'bench');
const only = process.argv.slice(2);
const files = (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort();
let allOk = true;
for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { section?: BenchSection };
  if (!mod.section) continue;
  if (only.length > 0 && !only.includes(mod.section.name)) continue;
  console.log(`\n== ${mod.section.name}`);
  const { ok } = await mod.section.run();
  allOk &&= ok;
  console.log(ok ? `-- ${mod.section.name}: targets met` : `-- ${mod.section.name}: TARGET MISSED`);
}
process.exitCode = allOk ? 0 : 1;
