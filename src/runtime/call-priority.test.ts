import { describe, expect, it } from 'vitest';
import { callPriority, withCallPriority } from './call-priority.js';

describe('call priority', () => {
  it('is high where no work set one', () => {
    expect(callPriority()).toBe('high');
  });

  it('reaches calls made after awaits and timers inside the work, and the innermost setting wins', async () => {
    const seen = await withCallPriority('low', async () => {
      await new Promise((r) => setTimeout(r, 1));
      const inner = await withCallPriority('high', async () => {
        await Promise.resolve();
        return callPriority();
      });
      return [callPriority(), inner];
    });
    expect(seen).toEqual(['low', 'high']);
  });

  it('does not leak into work running beside it', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const low = withCallPriority('low', async () => {
      await gate;
      return callPriority();
    });
    const beside = (async () => {
      await Promise.resolve();
      return callPriority();
    })();
    release();
    expect(await Promise.all([low, beside])).toEqual(['low', 'high']);
  });
});
