/**
 * The worker part of `throughcare up`: runs the pathway workflows and every activity (record store,
 * Spine, notifications) against the workflow engine.
 */
import fs from 'node:fs/promises';
import { createActivities, createNotificationTransport, createSpineClient } from '../../activities';
import type { Config } from '../../config';
import type { Logger } from '../../log';
import type { Store } from '../../store';
import { startWorker } from '../../worker';
import type { StartedPart } from '../part';

export interface WorkerPartDependencies {
  readonly store: Store;
  readonly temporalAddress: string;
  readonly spineBaseUrl: string;
}

export async function startWorkerPart(
  config: Config,
  deps: WorkerPartDependencies,
  logger: Logger,
): Promise<StartedPart> {
  const { spine: spineConfig } = config;
  // The config module has already required all four auth variables together.
  const auth =
    spineConfig.tokenUrl && spineConfig.apiKey && spineConfig.privateKeyPath && spineConfig.keyId
      ? {
          tokenUrl: spineConfig.tokenUrl,
          apiKey: spineConfig.apiKey,
          privateKeyPem: await fs.readFile(spineConfig.privateKeyPath, 'utf8'),
          keyId: spineConfig.keyId,
        }
      : undefined;
  const spine = createSpineClient({
    baseUrl: deps.spineBaseUrl,
    auth,
    odsCode: spineConfig.odsCode,
    logger: logger.child({ component: 'spine' }),
  });
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
  });
}
