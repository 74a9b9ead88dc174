import { bundleWorkflowCode } from '@temporalio/worker';

describe('workflow bundle', () => {
  it('bundles the workflows, the interpreter and FEEL for the sandbox without node built-ins', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('./index'),
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });

    expect(code).toContain('runPathway');
    expect(code).toContain('completeTask');
  }, 120_000);
});
