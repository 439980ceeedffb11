/**
 * Model lifecycles read from Bedrock (GetFoundationModel), cached per model for one usage poll
 * interval and shared by every ModelAccess of the model: one call per model per interval, however
 * many tenants use it. Concurrent readers of the same model share one call.
 */
import { type BedrockClient, GetFoundationModelCommand } from '@aws-sdk/client-bedrock';
import type { ModelLifecycle } from '../../core/model-access/lifecycle.js';
import type { ModelLifecycleSource } from '../../ports/models.js';
import type { Clock } from '../../runtime/clock.js';
import { classifyAwsError } from './errors.js';

/** How long a failed read is remembered before the next pass tries again. */
export const LIFECYCLE_ERROR_TTL_MS = 60_000;

/** The cache; see the module comment. */
export class ModelLifecycleCache implements ModelLifecycleSource {
  private readonly entries = new Map<string, { expires: number; value: Promise<ModelLifecycle> }>();
  /** GetFoundationModel calls made, for tests and logs. */
  calls = 0;

  constructor(
    private readonly bedrock: BedrockClient,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  get(modelId: string): Promise<ModelLifecycle> {
    const now = this.clock.now();
    const hit = this.entries.get(modelId);
    if (hit && hit.expires > now) return hit.value;
    const entry = { expires: now + this.ttlMs, value: this.read(modelId) };
    this.entries.set(modelId, entry);
    // A failure is kept briefly only, so a missing permission or a throttle heals by itself.
    void entry.value.then((v) => {
      if (v.state === 'Unknown') entry.expires = Math.min(entry.expires, this.clock.now() + LIFECYCLE_ERROR_TTL_MS);
    });
    return entry.value;
  }

  private async read(modelId: string): Promise<ModelLifecycle> {
    this.calls++;
    try {
      // Shared by every caller, so no single pass's abort signal is passed.
      const out = await this.bedrock.send(new GetFoundationModelCommand({ modelIdentifier: modelId }));
      const l = out.modelDetails?.modelLifecycle;
      if (l?.status === 'LEGACY') {
        return {
          state: 'Legacy',
          ...(l.endOfLifeTime ? { endOfLife: new Date(l.endOfLifeTime) } : {}),
          ...(l.publicExtendedAccessTime ? { extendedAccessFrom: new Date(l.publicExtendedAccessTime) } : {}),
        };
      }
      return { state: 'Active' };
    } catch (e) {
      const kind = classifyAwsError(e);
      // Bedrock answers an unknown or retired model id with ResourceNotFound or ValidationException.
      if (kind === 'NotFound' || kind === 'InvalidInput') return { state: 'NotFound' };
      return { state: 'Unknown', error: `${(e as Error).name}: ${kind}` };
    }
  }
}
