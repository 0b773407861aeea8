/**
 * A lane runs the tasks queued on it one after another, in the order they were queued, whatever
 * their callers' concurrency: self-tests that share a platform (and its faults) queue their
 * whole-suite runs on the platform's lane.
 */
export type Lane = <T>(task: () => Promise<T>) => Promise<T>;

export function lane(): Lane {
  let tail: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
}
