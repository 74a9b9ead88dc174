import { Notifier } from './notifier';
import type { QueuedTask } from './store';
import { TaskQueues } from './task-queues';

const WORKFLOW = 1;
const ACTIVITY = 2;

function task(runId: string, queue: string, kind: number, ref: number, stored: boolean): QueuedTask {
  return { id: stored ? `${runId}-${ref}` : '', namespace: 'default', queue, kind, runId, ref, attempt: 1, stored };
}

const key = (queue: string, kind: number): string => Notifier.taskKey('default', queue, kind);

describe('the in-memory task queues', () => {
  it('hands out tasks oldest first and takes one back to the head', () => {
    const queues = new TaskQueues();
    const first = task('a', 'q', ACTIVITY, 5, true);
    const second = task('b', 'q', ACTIVITY, 5, true);
    queues.add(key('q', ACTIVITY), first);
    queues.add(key('q', ACTIVITY), second);
    const taken = queues.take(key('q', ACTIVITY));
    expect(taken).toBe(first);
    queues.giveBack(key('q', ACTIVITY), taken!);
    expect(queues.take(key('q', ACTIVITY))).toBe(first);
    expect(queues.take(key('q', ACTIVITY))).toBe(second);
    expect(queues.take(key('q', ACTIVITY))).toBeUndefined();
  });

  it('drops the sticky tasks a transition deleted, and says while any sticky task waits', () => {
    const queues = new TaskQueues();
    const sticky = task('a', 'worker-1-sticky', WORKFLOW, 9, false);
    const other = task('b', 'worker-1-sticky', WORKFLOW, 4, false);
    queues.add(key('worker-1-sticky', WORKFLOW), sticky);
    queues.add(key('worker-1-sticky', WORKFLOW), other);
    expect(queues.holdsUnstored()).toBe(true);

    queues.removeUnstored('a', WORKFLOW, 8); // another task of the run: nothing to drop
    queues.removeUnstored('a', WORKFLOW, 9);
    expect(queues.take(key('worker-1-sticky', WORKFLOW))).toBe(other);
    expect(queues.holdsUnstored()).toBe(false);
    expect(queues.take(key('worker-1-sticky', WORKFLOW))).toBeUndefined();
  });

  it('leaves stored tasks to be checked when they are taken', () => {
    const queues = new TaskQueues();
    const stored = task('a', 'q', WORKFLOW, 3, true);
    queues.add(key('q', WORKFLOW), stored);
    queues.removeUnstored('a', 0, 0);
    expect(queues.holdsUnstored()).toBe(false);
    expect(queues.take(key('q', WORKFLOW))).toBe(stored);
  });
});
