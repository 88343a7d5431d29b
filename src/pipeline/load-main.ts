import { openLoopLoad, type LoadSpec } from './load.js';

/** `node dist/pipeline/load-main.js <json LoadSpec>`: one perf stage's load; prints a LoadResult. */
const spec = JSON.parse(process.argv[2] ?? 'null') as LoadSpec | null;
if (!spec) {
  process.stderr.write('usage: load-main.js <json>\n');
  process.exit(2);
}
process.stdout.write(JSON.stringify(await openLoopLoad(spec)) + '\n');
