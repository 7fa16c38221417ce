/**
 * GET /executions filters are index partition keys, which DynamoDB refuses past 2,048 bytes (a
 * ValidationException, so a 500; DynamoDB Local does not enforce it). A filter is as long as a
 * stored name can be, and no longer: every partition a listing reads then fits.
 */
import { planListing } from '../../../lambdas/status/adapters/listing-plan';
import { AppError } from '../../../lambdas/shared/errors';
import { listQueryOf } from '../../../lambdas/status/list-query';
import { MAX_NAME_LENGTH } from '../../../lambdas/status/schemas';

const DYNAMODB_MAX_PARTITION_KEY_BYTES = 2048;
/** The widest name: three bytes of UTF-8 for each UTF-16 unit. */
const widest = '€'.repeat(MAX_NAME_LENGTH);

function largestPartitionBytes(params: Record<string, string>): number {
  const plan = planListing(listQueryOf(params), 8);
  return plan.kind === 'index' ? Math.max(...plan.sources.map((source) => Buffer.byteLength(source.partition))) : 0;
}

describe('GET /executions filters', () => {
  it.each(['processName', 'userName', 'nodeId'])('refuses a %s longer than a stored one can be, naming it', (name) => {
    let error: unknown;
    try {
      listQueryOf({ [name]: 'x'.repeat(MAX_NAME_LENGTH + 1) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, field: name });
  });

  it('reads partitions DynamoDB takes, whatever the longest names hold', () => {
    expect(largestPartitionBytes({ processName: widest })).toBeLessThanOrEqual(DYNAMODB_MAX_PARTITION_KEY_BYTES);
    expect(largestPartitionBytes({ userName: widest, processName: widest })).toBeLessThanOrEqual(DYNAMODB_MAX_PARTITION_KEY_BYTES);
    expect(largestPartitionBytes({ nodeId: widest, phase: 'SUCCEEDED' })).toBeLessThanOrEqual(DYNAMODB_MAX_PARTITION_KEY_BYTES);
  });
});

describe('GET /executions repeated parameters', () => {
  // API Gateway hands a repeated key over joined with commas: `processName=a&processName=b` reads
  // as the one process `a,b`, which matches nothing, and the listing would come back empty.
  it.each(['processName', 'userName', 'nodeId', 'limit', 'cursor'])('refuses %s given twice, naming it', (name) => {
    const raw = `${name}=a&phase=RUNNING&${encodeURIComponent(name)}=b`;
    let error: unknown;
    try {
      listQueryOf({ [name]: 'a,b', phase: 'RUNNING' }, raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, field: name });
  });

  it('takes phase repeated, as the comma-separated list it becomes', () => {
    expect(listQueryOf({ phase: 'RUNNING,FAILED', processName: 'gs:Buffer' }, 'phase=RUNNING&phase=FAILED&processName=gs%3ABuffer')).toMatchObject({
      phases: ['RUNNING', 'FAILED'],
      processName: 'gs:Buffer',
    });
  });
});

describe('GET /executions phase filter', () => {
  function refusal(phase: string): AppError {
    try {
      listQueryOf({ phase });
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      return error as AppError;
    }
    throw new Error(`phase=${phase} was taken`);
  }

  // `phase=DONE` is a plausible typo: the answer names the parameter, the value and the phases
  // there are, never "is required" of a parameter that was given.
  it.each([
    ['DONE', 'DONE'],
    ['RUNNING,DONE', 'DONE'],
    ['running,finished', 'FINISHED'],
  ])('refuses phase=%s naming the parameter, the unknown phase and the known ones', (phase, named) => {
    const error = refusal(phase);
    expect(error).toMatchObject({ status: 400, field: 'phase' });
    expect(error.message).toContain(`'${named}'`);
    expect(error.message).toContain('QUEUED, RUNNING, SUCCEEDED, DISMISSING, FAILED');
    expect(error.message).not.toContain('required');
  });

  it('refuses an empty phase, saying a phase is needed', () => {
    const error = refusal('');
    expect(error).toMatchObject({ status: 400, field: 'phase' });
    expect(error.message).toContain('QUEUED, RUNNING, SUCCEEDED, DISMISSING, FAILED');
  });

  it('takes phases in any case', () => {
    expect(listQueryOf({ phase: 'running, Failed' }).phases).toEqual(['RUNNING', 'FAILED']);
  });
});
