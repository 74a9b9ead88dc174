import { compileFixture } from '../../bpmn/fixtures/load-fixture';
import { type PathwayIR } from '../../bpmn/ir';
import { canEverCatch, messageCatchersIn, messageReach } from './message-catchers';

describe('message catchers', () => {
  it('finds intermediate catch events, event-gateway targets, boundary events and message start events', async () => {
    const buffering = await compileFixture('message-buffering');
    const boundary = await compileFixture('message-boundary');
    const catching = await compileFixture('message-catch');

    expect(messageCatchersIn(buffering, 'prison.discharge')).toEqual([
      {
        processId: 'MessageBuffering',
        elementId: 'AwaitDischarge',
        name: 'Discharged from prison',
        kind: 'intermediateCatchEvent',
      },
    ]);
    expect(messageCatchersIn(buffering, 'prison.recall').map((c) => c.elementId)).toEqual(['Recalled']);
    expect(messageCatchersIn(boundary, 'transfer')).toEqual([
      { processId: 'MessageBoundary', elementId: 'Transferred', name: 'Transferred', kind: 'boundaryEvent' },
    ]);
    expect(messageCatchersIn(catching, 'transfer')).toEqual([
      { processId: 'MessageCatch', elementId: 'Transferred', name: 'Transferred in', kind: 'startEvent' },
    ]);
    expect(messageCatchersIn(buffering, 'court.outcome')).toEqual([]);
  });

  it('looks through the pinned called pathways, and their calls in turn', async () => {
    const parent = await compileFixture('message-buffering');
    const child: PathwayIR = { ...(await compileFixture('message-catch')), processId: 'ChildStage' };

    const reach = messageReach(parent, { ChildStage: child }, 'test-result');

    expect(reach.here).toEqual([]);
    expect(reach.called).toEqual({ ChildStage: [expect.objectContaining({ elementId: 'AwaitResult' })] });
    expect(reach.undetermined).toBe(false);
    expect(canEverCatch(reach)).toBe(true);
    expect(canEverCatch(messageReach(parent, { ChildStage: child }, 'no.such.message'))).toBe(false);
  });

  it('cannot rule a message out when a called pathway is not pinned', async () => {
    const parent = await compileFixture('message-buffering');

    const reach = messageReach(parent, {}, 'no.such.message');

    expect(reach.undetermined).toBe(true);
    expect(canEverCatch(reach)).toBe(true);
  });
});
