import { compileFixture } from '../../bpmn/fixtures/load-fixture';
import type { PathwayElement, PathwayIR } from '../../bpmn/ir';
import { handle, start } from './interpreter';
import { planMigration } from './migrate';

const NOW = '2026-12-07T09:00:00.000Z';

/** The IR with element `id` renamed to `to` (its flows, boundary events and attachments following). */
function renamed(ir: PathwayIR, id: string, to: string): PathwayIR {
  const rename = (value: string) => (value === id ? to : value);
  const elements = Object.fromEntries(
    Object.values(ir.elements).map((element) => {
      const moved = { ...element, id: rename(element.id) } as PathwayElement & { attachedTo?: string };
      if (moved.attachedTo) moved.attachedTo = rename(moved.attachedTo);
      return [moved.id, moved];
    }),
  );
  const flows = Object.fromEntries(
    Object.values(ir.flows).map((flow) => [
      flow.id,
      { ...flow, sourceRef: rename(flow.sourceRef), targetRef: rename(flow.targetRef) },
    ]),
  );
  return { ...ir, elements, flows };
}

describe('planMigration', () => {
  it('moves open tasks to their mapped elements, keeping their ids', async () => {
    const ir = await compileFixture('parallel');
    const { state } = start(ir, {}, NOW);
    const next = renamed(ir, 'HealthScreen', 'PhysicalHealthScreen');
    const plan = planMigration(ir, next, state, { HealthScreen: 'PhysicalHealthScreen' });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.moves).toEqual([
      { from: 'HealthScreen', to: 'PhysicalHealthScreen', what: 'open task' },
      { from: 'SubstanceScreen', to: 'SubstanceScreen', what: 'open task' },
    ]);
    const health = Object.values(plan.state.instances).find((i) => i.elementId === 'PhysicalHealthScreen');
    expect(health?.id).toBe(Object.values(state.instances).find((i) => i.elementId === 'HealthScreen')?.id);
    // The state it was given is left as it was.
    expect(
      Object.values(state.instances)
        .map((i) => i.elementId)
        .sort(),
    ).toEqual(['HealthScreen', 'SubstanceScreen']);
  });

  it('refuses a task with nowhere to go, a wrong kind, a mapping naming unknown elements, and tokens at a changed join', async () => {
    const ir = await compileFixture('parallel');
    const first = start(ir, {}, NOW);
    const health = Object.values(first.state.instances).find((i) => i.elementId === 'HealthScreen')!;
    const { state } = handle(ir, first.state, { type: 'taskCompleted', taskId: health.id, data: {} }, NOW);

    const withoutTask = renamed(ir, 'SubstanceScreen', 'Gone');
    expect(planMigration(ir, withoutTask, state)).toEqual({
      ok: false,
      problems: [expect.stringContaining('holds a open task but has no counterpart in the new version: map it')],
    });
    expect(planMigration(ir, ir, state, { SubstanceScreen: 'Join' })).toEqual({
      ok: false,
      problems: [expect.stringContaining('is a parallelGateway, not a userTask')],
    });
    expect(planMigration(ir, ir, state, { Nope: 'Nada' })).toMatchObject({
      ok: false,
      problems: [
        "The mapping names 'Nope', which is not in the running version",
        "The mapping names 'Nada', which is not in the new version",
      ],
    });
    expect(planMigration(ir, renamed(ir, 'Join', 'AllDone'), state)).toEqual({
      ok: false,
      problems: [expect.stringContaining("Tokens wait at the parallel join 'Join'")],
    });
  });

  it('refuses to move a message wait to an element that catches another message', async () => {
    const ir = await compileFixture('message-boundary');
    const { state } = start(ir, {}, NOW);
    const [subscription] = Object.values(state.subscriptions);
    expect(subscription).toBeDefined();
    const catcher = ir.elements[subscription!.elementId]!;
    const changed: PathwayIR = {
      ...ir,
      elements: {
        ...ir.elements,
        [catcher.id]: {
          ...catcher,
          trigger: { type: 'message', messageName: { literal: 'something.else' } },
        } as PathwayElement,
      },
    };
    expect(planMigration(ir, ir, state).ok).toBe(true);
    expect(planMigration(ir, changed, state)).toEqual({
      ok: false,
      problems: [expect.stringContaining(`waits for message '${subscription!.messageName}'`)],
    });
  });
});
