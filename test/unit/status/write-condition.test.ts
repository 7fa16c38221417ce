import { ValidationError } from '../../../lambdas/shared/errors';
import type { ExecutionStatus } from '../../../lambdas/status/execution';
import { etagOf, writeCondition } from '../../../lambdas/status/status-http';

const stored = {
  executionId: 'e-1',
  processName: 'gs:Buffer',
  phase: 'RUNNING',
  progress: 10,
  nodeId: 'node-1',
  creationTime: '2026-01-01T00:00:00.000Z',
  lastUpdated: '2026-01-01T00:00:05.000Z',
  version: 2,
} as ExecutionStatus;

const ifMatch = (value: string) => writeCondition({ headers: { 'if-match': value } } as never)!;

describe("If-Match on a node's write (strong comparison, RFC 9110 13.1.1)", () => {
  it('holds for the stored ETag, quoted or not, alone or in a list', () => {
    const tag = etagOf(stored);
    expect(ifMatch(tag)(stored)).toBeUndefined();
    expect(ifMatch(tag.slice(1, -1))(stored)).toBeUndefined();
    expect(ifMatch(`"1-abc", ${tag}`)(stored)).toBeUndefined();
  });

  it('fails (412) for the stored ETag made weak, as a proxy may send it back, saying why', () => {
    const weak = `W/${etagOf(stored)}`;
    expect(ifMatch(weak)(stored)).toMatch(/weak ETags only, which never match/);
    // A weak tag beside the strong one: the strong one passes.
    expect(ifMatch(`${weak}, ${etagOf(stored)}`)(stored)).toBeUndefined();
    expect(ifMatch(`${weak}, "1-abc"`)(stored)).toMatch(/which If-Match does not name/);
  });

  it('still refuses (400) what is no ETag of this API, weak or not', () => {
    expect(() => ifMatch('W/"not-ours"')).toThrow(ValidationError);
    expect(() => ifMatch('W/')).toThrow(ValidationError);
    expect(() => ifMatch('nonsense')).toThrow(ValidationError);
  });
});
