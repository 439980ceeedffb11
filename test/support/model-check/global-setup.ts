/** vitest globalSetup: after a run, prints the calls model-checked per operation by the test files it ran. */
import { randomUUID } from 'node:crypto';
import { formatTable, summarise } from './summary.js';

export default function setup(): () => void {
  const started = Date.now();
  // The test workers inherit it and write it into their counts, so runs at the same time stay apart.
  const run = (process.env.TRO_MODEL_CHECK_RUN ??= randomUUID());
  return () => {
    const s = summarise(undefined, started, run);
    if (!s.files) return;
    const total = s.counts.reduce((a, c) => a + c.calls, 0);
    console.log(
      `\nAWS calls checked against botocore's models (${s.files} test files, ${total} calls, ${s.violations} violations):\n${formatTable(s.counts)}\n`,
    );
  };
}
