/**
 * The Spine client as configured (SPINE_* variables): the worker's activities and the API's PDS search use the
 * same base URL, credentials and ODS code.
 */
import fs from 'node:fs/promises';
import { createSpineClient, type SpineClient } from '../../activities';
import type { Config } from '../../config';
import type { Logger } from '../../log';

export async function createConfiguredSpineClient(
  config: Config,
  baseUrl: string,
  logger: Logger,
): Promise<SpineClient> {
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
  return createSpineClient({
    baseUrl,
    auth,
    odsCode: spineConfig.odsCode,
    logger: logger.child({ component: 'spine' }),
  });
}
