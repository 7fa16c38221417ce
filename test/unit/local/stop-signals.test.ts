/**
 * npm start's Ctrl-C (local/stop-signals.ts): the first stops the cluster and exits 0 once the
 * stop is done; a second while that stop still runs exits at once with 130 (SIGINT) or 143
 * (SIGTERM), saying what may be left.
 */
import { stopOnSignals } from '../../../local/stop-signals';

function harness() {
  let finishStop: () => void = () => undefined;
  const stops: number[] = [];
  const exits: number[] = [];
  const errors: string[] = [];
  const announced: string[] = [];
  const handler = stopOnSignals({
    stop: () => {
      stops.push(1);
      return new Promise<void>((resolve) => (finishStop = resolve));
    },
    announce: () => announced.push('stopping'),
    forcedMessage: (signal) => `a second ${signal}: may be left: .local/`,
    exit: (code) => exits.push(code),
    error: (line) => errors.push(line),
  });
  return { handler, stops, exits, errors, announced, finish: () => finishStop() };
}

describe('npm start on Ctrl-C', () => {
  it('stops once and exits 0 only when the stop is done', async () => {
    const run = harness();
    const first = run.handler('SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect(run.stops).toHaveLength(1);
    expect(run.announced).toEqual(['stopping']);
    expect(run.exits).toEqual([]);
    run.finish();
    await first;
    expect(run.exits).toEqual([0]);
    expect(run.errors).toEqual([]);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('a second %s while the stop waits exits at once with %i, saying what may be left', async (signal, code) => {
    const run = harness();
    void run.handler('SIGINT');
    await run.handler(signal);
    expect(run.exits).toEqual([code]);
    expect(run.errors).toEqual([`a second ${signal}: may be left: .local/`]);
    // The cut-short stop was started once, never again.
    expect(run.stops).toHaveLength(1);
  });
});
