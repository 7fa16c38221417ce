// The status store's attribute maps: a status goes in and comes back whole, and the stored form is
// the one the document client wrote before the store moved to the low-level client (items already
// in a deployed table must read the same, and items written now must read the same to an older
// function still running during a deploy).
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { attributeOf, statusAttributes, statusOf } from '../../../lambdas/status/adapters/status-item';
import type { ExecutionStatus } from '../../../lambdas/status/execution';

const minimal: ExecutionStatus = {
  executionId: 'e-1',
  processName: 'gs:Buffer',
  phase: 'QUEUED',
  progress: 0,
  nodeId: 'slave-1',
  creationTime: '2026-12-02T01:00:00.000Z',
  lastUpdated: '2026-12-02T01:00:00.000Z',
  version: 1,
};

const full: ExecutionStatus = {
  ...minimal,
  phase: 'FAILED',
  progress: 42,
  task: 'Buffering "roads" — 3/7',
  userName: 'ana',
  completionTime: '2026-12-02T01:05:00.000Z',
  lastUpdated: '2026-12-02T01:05:00.000Z',
  expirationDate: '2026-12-03T01:00:00.000Z',
  estimatedCompletion: '2026-12-02T01:06:00.000Z',
  nextPoll: '2026-12-02T01:05:10.000Z',
  exception: { code: 'Dismissed', message: 'The execution was dismissed by a client before it completed' },
  resultLocation: 'https://example.org/results/e-1',
  dismissed: true,
  version: 7,
};

describe('status attribute maps', () => {
  it.each([
    ['a new status', minimal],
    ['a status with every field', full],
  ])('stores %s as the document client did and reads it back whole', (_, status) => {
    const item = statusAttributes(status);
    expect(item).toEqual(marshall(status, { removeUndefinedValues: true }));
    expect(statusOf(item)).toEqual(status);
    expect(statusOf(marshall(status))).toEqual(status);
  });

  it('leaves out what is not a status field (index keys, TTL) when reading', () => {
    const item = { ...statusAttributes(minimal), activeShard: { S: 's1' }, heartbeatSort: { S: 'x#e-1' }, expiresAt: { N: '4000000000' } };
    expect(statusOf(item)).toEqual(minimal);
  });

  it('keeps a false dismissed flag and a progress of 0', () => {
    const status = { ...minimal, dismissed: false };
    expect(unmarshall(statusAttributes(status))).toEqual(status);
    expect(statusOf(statusAttributes(status))).toEqual(status);
  });

  it('refuses an item that is not a whole status, naming the attribute', () => {
    const { version: _version, ...item } = statusAttributes(minimal);
    expect(() => statusOf(item)).toThrow(/e-1 lacks number attribute version/);
    const { phase: _phase, ...noPhase } = statusAttributes(minimal);
    expect(() => statusOf(noPhase)).toThrow(/lacks string attribute phase/);
  });

  it('writes expression values of every kind a status field has', () => {
    expect(attributeOf('RUNNING')).toEqual({ S: 'RUNNING' });
    expect(attributeOf(0)).toEqual({ N: '0' });
    expect(attributeOf(true)).toEqual({ BOOL: true });
    expect(attributeOf({ code: 'c', message: 'm' })).toEqual({ M: { code: { S: 'c' }, message: { S: 'm' } } });
  });
});
