/**
 * The Spine part of `throughcare up`: the NHS API platform at SPINE_BASE_URL, or the embedded sandbox.
 * A configured real Spine is not probed by `/ready`: every call there is rate-limited and audited.
 */
import type { Config } from '../../config';
import type { Logger } from '../../log';
import { PDS_BASE_PATH, startSpineSandbox } from '../../spine-sandbox';
import type { StartedPart } from '../part';

export interface StartedSpine extends StartedPart {
  readonly baseUrl: string;
}

export async function startSpine(config: Config, logger: Logger): Promise<StartedSpine> {
  if (config.spine.baseUrl) {
    return { baseUrl: config.spine.baseUrl, location: config.spine.baseUrl, stop: () => Promise.resolve() };
  }
  const sandbox = await startSpineSandbox({ logger: logger.child({ component: 'spine-sandbox' }) });
  return {
    baseUrl: sandbox.baseUrl,
    location: `embedded Spine sandbox at ${sandbox.baseUrl}`,
    check: async () => {
      // The sandbox's own test patient: cheap, and proves the PDS route answers.
      const res = await fetch(`${sandbox.baseUrl}${PDS_BASE_PATH}/Patient/9000000009`, {
        headers: { 'X-Request-ID': crypto.randomUUID() },
      });
      if (!res.ok) throw new Error(`sandbox answered ${res.status}`);
    },
    stop: () => sandbox.stop(),
  };
}
