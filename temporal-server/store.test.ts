import { Run, RunCache, type CachedRun, type EventTail } from './store';
import type { RunState } from './state';

/** A run as a transition reads it: `committed` events written so far, the last of them in `tail` when known. */
function runWith(opts: { committed: number; lastWftStartedId: number; tail?: EventTail; isNew?: boolean }): Run {
  const state = { nextEventId: opts.committed + 1, lastWftStartedId: opts.lastWftStartedId } as RunState;
  return new Run({
    namespace: 'default',
    workflowId: 'wf',
    runId: 'run',
    workflowType: 'type',
    taskQueue: 'queue',
    status: 1,
    requestId: null,
    version: 1,
    state,
    searchAttributes: {},
    isNew: opts.isNew ?? false,
    ...(opts.tail ? { tail: opts.tail } : {}),
  });
}

function add(run: Run, count: number): void {
  for (let i = 0; i < count; i++) {
    const id = run.state.nextEventId++;
    run.newEvents.push({ id, bytes: Buffer.from(`event ${id}`) });
  }
}

const ids = (tail: EventTail): string[] => tail.events.map((b) => b.toString());

describe('the event tail a cached run keeps', () => {
  it('starts at the first event for a new run', () => {
    const run = runWith({ committed: 0, lastWftStartedId: 0, isNew: true });
    add(run, 3);
    expect(run.tailAfterWrite()).toMatchObject({ firstId: 1 });
    expect(ids(run.tailAfterWrite())).toEqual(['event 1', 'event 2', 'event 3']);
  });

  it('extends a known tail and drops what the worker has already seen', () => {
    const tail = { firstId: 3, events: [3, 4, 5].map((id) => Buffer.from(`event ${id}`)) };
    const run = runWith({ committed: 5, lastWftStartedId: 3, tail });
    add(run, 2);
    expect(run.tailAfterWrite().firstId).toBe(4);
    expect(ids(run.tailAfterWrite())).toEqual(['event 4', 'event 5', 'event 6', 'event 7']);
  });

  it('holds only the new events when the run was read from the database', () => {
    const run = runWith({ committed: 5, lastWftStartedId: 0 });
    add(run, 2);
    expect(run.tailAfterWrite().firstId).toBe(6);
    expect(ids(run.tailAfterWrite())).toEqual(['event 6', 'event 7']);
  });

  it('keeps at most 64 events, copied', () => {
    const run = runWith({ committed: 0, lastWftStartedId: 0, isNew: true });
    add(run, 100);
    const tail = run.tailAfterWrite();
    expect(tail.firstId).toBe(37);
    expect(tail.events).toHaveLength(64);
    expect(tail.events.at(-1)?.toString()).toBe('event 100');
    // Only the kept events are copied, into memory of their own (not a slab of the shared pool).
    const kept = tail.events.reduce((n, b) => n + b.length, 0);
    expect(tail.events.every((b) => b.buffer.byteLength === kept)).toBe(true);
  });
});

describe("the run cache's index of running runs", () => {
  const row = (runId: string, status: CachedRun['status'], version: number): CachedRun => ({
    namespace: 'default',
    workflowId: 'wf',
    runId,
    workflowType: 'type',
    taskQueue: 'queue',
    status,
    requestId: null,
    version,
    state: '{}',
    searchAttributes: '{}',
  });

  it('answers with the running run of a workflow id, and nothing once it has closed', () => {
    const cache = new RunCache();
    expect(cache.runningRunOf('default', 'wf')).toBeUndefined();
    cache.put(row('first', 1, 0));
    expect(cache.runningRunOf('default', 'wf')).toBe('first');
    cache.put(row('first', 2, 1));
    expect(cache.runningRunOf('default', 'wf')).toBeUndefined();
    cache.put(row('second', 1, 0));
    expect(cache.runningRunOf('default', 'wf')).toBe('second');
    expect(cache.runningRunOf('default', 'other')).toBeUndefined();
  });
});
