/**
 * The worker part of `throughcare up`: runs the pathway workflows and every activity (record store,
 * Spine, notifications) against the workflow engine.
 */
import { createActivities, createNotificationTransport } from '../../activities';
import type { Config } from '../../config';
import type { Logger } from '../../log';
import type { ActivityFailureRecorder } from '../../metrics';
import type { Store } from '../../store';
import { startWorker } from '../../worker';
import type { StartedPart } from '../part';
import { createConfiguredSpineClient } from './spine-client';

export interface WorkerPartDependencies {
  readonly store: Store;
  readonly temporalAddress: string;
  readonly spineBaseUrl: string;
  /** Counts each failed activity attempt for /metrics (called by the worker's activity interceptor). */
  readonly activityFailures?: ActivityFailureRecorder;
}

export async function startWorkerPart(
  config: Config,
  deps: WorkerPartDependencies,
  logger: Logger,
): Promise<StartedPart> {
  const spine = await createConfiguredSpineClient(config, deps.spineBaseUrl, logger);
  const transport = createNotificationTransport({
    notifyApiKey: config.notify.apiKey,
    smtpUrl: config.notify.smtpUrl,
    store: deps.store,
    logger: logger.child({ component: 'notify' }),
  });
  return startWorker({
    address: deps.temporalAddress,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({
      store: deps.store,
      spine,
      transport,
      logger: logger.child({ component: 'activities' }),
    }),
    logger,
    onActivityFailure: (activityType, errorType) =>
      deps.activityFailures?.recordActivityFailure(activityType, errorType),
  });
}
