/**
 * Per test file (vitest `setupFiles`): a test fails when AWS calls made during it break AWS's API
 * model, and the file's counts of checked calls are written when it ends.
 */
import { afterAll, afterEach, expect } from 'vitest';
import { throwUnreported, writeCounts } from './recorder.js';

let file = 'unknown';

afterEach(() => {
  file = expect.getState().testPath ?? file;
  throwUnreported(`test "${expect.getState().currentTestName ?? ''}"`);
});

afterAll(() => {
  writeCounts(file);
  throwUnreported(`after the tests of ${file}`);
});
