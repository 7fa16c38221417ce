/**
 * The 502 of a master's answer too large to return (gateway/limits.ts): for a read it says to ask
 * for less; for a write the master applied (and the cluster published), it says so, since the
 * caller would otherwise take the 502 for a failure and send the write again.
 */
import { MasterAnswerTooLargeError } from '../../../../lambdas/config-sync/gateway/limits';

test('a read: the size, the limit and what to ask instead', () => {
  const error = new MasterAnswerTooLargeError(5_000_000);
  expect(error).toMatchObject({ status: 502, code: 'GEOSERVER_ANSWER_TOO_LARGE' });
  expect(error.message).toContain('answer is 5000000 bytes; the gateway returns at most 4194304 bytes');
  expect(error.message).toContain('Ask for less');
  // Told of a write's outcome on a read, it says nothing of one.
  expect(new MasterAnswerTooLargeError(5_000_000, 'GET', { status: 200, sequences: [] }).message).not.toContain('answered this');
});

test('a write the master applied: its status and the sequences published, and not to send it again', () => {
  const error = new MasterAnswerTooLargeError(5_000_000, 'POST', { status: 201, sequences: [41, 42] });
  expect(error.message).toContain('The master answered this POST with 201, and the cluster published what it changed (sequence 41, 42): only its answer is not returned');
  expect(error.message).toContain('rather than sending the write again');
  expect(error.message).not.toContain('Ask for less');
  // One that changed nothing the cluster replicates says the status alone.
  expect(new MasterAnswerTooLargeError(5_000_000, 'PUT', { status: 200, sequences: [] }).message).toContain('The master answered this PUT with 200: only its answer is not returned');
});
