/** Where the ModelAccess controller learns a foundation model's lifecycle (Active, Legacy, end of life). */
import type { ModelLifecycle } from '../core/model-access/lifecycle.js';

/** Lifecycles by model id; an implementation may cache and share reads. */
export interface ModelLifecycleSource {
  get(modelId: string): Promise<ModelLifecycle>;
}
