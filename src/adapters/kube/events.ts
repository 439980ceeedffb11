/** Kubernetes Events (events.k8s.io/v1) about the operator's objects. */
import type { Logger } from 'pino';
import { FIELD_MANAGER } from '../../api/v1alpha1/constants.js';
import type { AnyResource } from '../../api/v1alpha1/types.js';
import { type EventsV1Api, microTime } from './client.js';
import type { EventRecorder } from '../../ports/kube.js';
import type { Clock } from '../../runtime/clock.js';

/** Records Events; the objects are cluster-scoped, so Events go to the `default` namespace as kube does. */
export class KubeEventRecorder implements EventRecorder {
  constructor(
    private readonly api: EventsV1Api,
    private readonly instance: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly namespace = 'default',
  ) {}

  async emit(obj: AnyResource, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date(this.clock.now());
    try {
      await this.api.createNamespacedEvent({
        namespace: this.namespace,
        body: {
          // Named as client-go names Events: the object's name and a hex timestamp.
          metadata: { name: `${obj.metadata.name}.${(now.getTime() * 1000 + Math.floor(Math.random() * 1000)).toString(16)}` },
          eventTime: microTime(now),
          reportingController: `${FIELD_MANAGER}`,
          reportingInstance: this.instance,
          action: reason,
          reason,
          note: message.slice(0, 1024),
          type,
          regarding: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: obj.metadata.name,
            uid: obj.metadata.uid,
            resourceVersion: obj.metadata.resourceVersion,
          },
        },
      });
    } catch (err) {
      // An Event is best effort: failing to record one must never fail a reconcile.
      this.logger.warn({ err, reason }, 'could not record event');
    }
  }
}
