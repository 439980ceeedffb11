/** vitest globalSetup: after a run, prints the calls model-checked per operation by the test files it ran. */
import { formatTable, summarise } from './summary.js';

export default function setup(): () => void {
  const started = Date.now();
  return () => {
    const s = summarise(undefined, started);
    if (!s.files) return;
    const total = s.counts.reduce((a, c) => a + c.calls, 0);
    console.log(
      `\nAWS calls checked against botocore's models (${s.files} test files, ${total} calls, ${s.violations} violations):\n${formatTable(s.counts)}\n`,
    );
  };
}
