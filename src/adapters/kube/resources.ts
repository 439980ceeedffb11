/** Status and finalizer writes on the operator's custom resources, and their list calls. */
import { FIELD_MANAGER, FINALIZER, GROUP, KINDS, type KindName, VERSION } from '../../api/v1alpha1/constants.js';
import type { AnyResource } from '../../api/v1alpha1/types.js';
import type { ObjectWriter } from '../../ports/kube.js';
import type { CustomObjectsApi } from './client.js';
import { classifyKubeError } from './errors.js';

/** API path of a kind's collection, for watches. */
export function collectionPath(kind: KindName): string {
  return `/apis/${GROUP}/${VERSION}/${KINDS[kind].plural}`;
}

/** What a list answers. */
export interface ListResult<T> {
  items: T[];
  /** `continue`: the token of the next page, absent on the last. */
  metadata?: { resourceVersion?: string; continue?: string };
}

/** Which page of a list to read: at most `limit` objects, from the previous page's token. */
export interface ListPage {
  limit: number;
  continue?: string;
}

/** A list is cut off after this. */
const LIST_TIMEOUT_MS = 60_000;

/** Lists a kind a page at a time (for informers). */
export function lister<T>(api: CustomObjectsApi, kind: KindName): (page: ListPage) => Promise<ListResult<T>> {
  const plural = { group: GROUP, version: VERSION, plural: KINDS[kind].plural };
  return async (page) =>
    (await api.listClusterCustomObject(
      { ...plural, limit: page.limit, _continue: page.continue },
      { timeoutMs: LIST_TIMEOUT_MS },
    )) as ListResult<T>;
}

/**
 * Setting metadata.resourceVersion in a patch makes the API server check it like an update's
 * precondition: a changed object answers 409 Conflict (a JSON-patch `test` would answer 422, which
 * cannot be told apart from an invalid write).
 */
function precondition(obj: AnyResource): { op: 'replace'; path: string; value: string | undefined } {
  return { op: 'replace', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion };
}

/** Writes status and finalizers of one kind with JSON patches; never touches spec. */
export class ResourceWriter<T extends AnyResource> implements ObjectWriter<T> {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly kind: KindName,
    private readonly onWrite?: (what: 'status' | 'finalizer') => void,
  ) {}

  private params(
    name: string,
    body: unknown,
  ): { group: string; version: string; plural: string; name: string; body: unknown; fieldManager: string } {
    return { group: GROUP, version: VERSION, plural: KINDS[this.kind].plural, name, body, fieldManager: FIELD_MANAGER };
  }

  async writeStatus(obj: T, status: NonNullable<T['status']>): Promise<T> {
    // `add` on /status replaces it whole, so fields the operator dropped really go away; the
    // resourceVersion precondition makes a status computed from a stale read fail with 409.
    const patch = [precondition(obj), { op: 'add', path: '/status', value: status }];
    try {
      const updated = (await this.api.patchClusterCustomObjectStatus(this.params(obj.metadata.name, patch))) as T;
      this.onWrite?.('status');
      return updated;
    } catch (e) {
      throw classifyKubeError(e, `${this.kind} ${obj.metadata.name} status`);
    }
  }

  async addFinalizer(obj: T): Promise<T> {
    const current = obj.metadata.finalizers ?? [];
    if (current.includes(FINALIZER)) return obj;
    return this.patchFinalizers(obj, [...current, FINALIZER]);
  }

  async removeFinalizer(obj: T): Promise<void> {
    const current = obj.metadata.finalizers ?? [];
    if (!current.includes(FINALIZER)) return;
    await this.patchFinalizers(
      obj,
      current.filter((f) => f !== FINALIZER),
    );
  }

  private async patchFinalizers(obj: T, finalizers: string[]): Promise<T> {
    // The precondition makes this fail rather than clobber another writer's change.
    const patch = [precondition(obj), { op: 'add', path: '/metadata/finalizers', value: finalizers }];
    try {
      const updated = (await this.api.patchClusterCustomObject(this.params(obj.metadata.name, patch))) as T;
      this.onWrite?.('finalizer');
      return updated;
    } catch (e) {
      throw classifyKubeError(e, `${this.kind} ${obj.metadata.name} finalizers`);
    }
  }
}
