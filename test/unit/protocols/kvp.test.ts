import {
  MAX_ID_LENGTH,
  OWS_EXCEPTION_HTTP_STATUS,
  OwsException,
  parseKvp,
  unknownExecution,
  type QueryParameters,
} from '../../../lambdas/status/protocols/kvp';
import { AppError } from '../../../lambdas/shared/errors';

const ID = '397e8cbd-7d51-48c5-ad72-b0fcbe7cfbdb';

function thrown(query: QueryParameters): OwsException {
  try {
    parseKvp(query);
  } catch (error) {
    if (error instanceof OwsException) return error;
    throw error;
  }
  throw new Error(`expected an OwsException for ${JSON.stringify(query)}`);
}

describe('parseKvp: the four operations', () => {
  it("reads GeoServer's statusLocation URL (WPS 1.0.0 GetExecutionStatus)", () => {
    expect(parseKvp({ service: 'WPS', version: '1.0.0', request: 'GetExecutionStatus', executionId: ID })).toEqual({
      kind: 'wps1-status',
      executionId: ID,
    });
  });

  it('reads WPS 2.0 GetStatus and Dismiss', () => {
    expect(parseKvp({ service: 'WPS', version: '2.0.0', request: 'GetStatus', jobID: ID })).toEqual({ kind: 'wps2-status', jobId: ID });
    expect(parseKvp({ service: 'WPS', version: '2.0.0', request: 'Dismiss', jobID: ID })).toEqual({ kind: 'wps2-dismiss', jobId: ID });
  });

  it("reads GeoServer's WPS 1.0.0 Dismiss vendor operation", () => {
    expect(parseKvp({ service: 'WPS', version: '1.0.0', request: 'Dismiss', executionId: ID })).toEqual({
      kind: 'wps1-dismiss',
      executionId: ID,
    });
  });

  it('treats keys case-insensitively, and service/request values too', () => {
    expect(parseKvp({ SERVICE: 'wps', Request: 'getexecutionstatus', executionid: ID, VERSION: '1.0.0' })).toEqual({
      kind: 'wps1-status',
      executionId: ID,
    });
    expect(parseKvp({ Service: 'WPS', REQUEST: 'GETSTATUS', JOBID: ID })).toEqual({ kind: 'wps2-status', jobId: ID });
  });

  it('keeps id values exactly, apart from surrounding whitespace', () => {
    expect(parseKvp({ service: 'WPS', request: 'GetStatus', jobID: '  Job-ABC/def  ' })).toEqual({ kind: 'wps2-status', jobId: 'Job-ABC/def' });
  });

  it('takes the pairs of a raw query: a key given twice with two values is refused, twice with one value taken', () => {
    expect(() => parseKvp(new URLSearchParams('service=WPS&request=GetStatus&jobID=a&jobID=b'))).toThrow(/jobID is given twice with different values/);
    expect(parseKvp(new URLSearchParams(`service=WPS&request=GetStatus&jobID=${ID}&jobid=${ID}`))).toEqual({ kind: 'wps2-status', jobId: ID });
  });

  it('accepts service and request given twice with values that differ only in case, as it matches those values', () => {
    expect(parseKvp(new URLSearchParams(`service=WPS&service=wps&request=GetStatus&jobID=${ID}`))).toEqual({ kind: 'wps2-status', jobId: ID });
    expect(parseKvp(new URLSearchParams(`service=WPS&request=GetStatus&REQUEST=getstatus&jobID=${ID}`))).toEqual({ kind: 'wps2-status', jobId: ID });
    // Ids are case-sensitive: two ids differing in case are still two ids.
    expect(() => parseKvp(new URLSearchParams('service=WPS&request=GetStatus&jobID=a&jobID=A'))).toThrow(/jobID is given twice with different values/);
  });

  it('accepts the same key twice in different cases when the values agree', () => {
    expect(parseKvp({ service: 'WPS', SERVICE: 'WPS', request: 'GetStatus', jobID: ID })).toEqual({ kind: 'wps2-status', jobId: ID });
  });
});

describe('parseKvp: version defaults', () => {
  it('GetExecutionStatus defaults to 1.0.0 (it only exists there)', () => {
    expect(parseKvp({ service: 'WPS', request: 'GetExecutionStatus', executionId: ID })).toEqual({ kind: 'wps1-status', executionId: ID });
  });

  it('GetStatus defaults to 2.0.0 (it only exists there)', () => {
    expect(parseKvp({ service: 'WPS', request: 'GetStatus', jobID: ID })).toEqual({ kind: 'wps2-status', jobId: ID });
  });

  it('Dismiss without a version follows the id parameter given, jobID winning', () => {
    expect(parseKvp({ service: 'WPS', request: 'Dismiss', executionId: ID })).toEqual({ kind: 'wps1-dismiss', executionId: ID });
    expect(parseKvp({ service: 'WPS', request: 'Dismiss', jobID: ID })).toEqual({ kind: 'wps2-dismiss', jobId: ID });
    expect(parseKvp({ service: 'WPS', request: 'Dismiss', jobID: ID, executionId: 'other' })).toEqual({ kind: 'wps2-dismiss', jobId: ID });
  });
});

describe('parseKvp: OWS exceptions naming the parameter', () => {
  it.each<[string, string, string | undefined, '1.0.0' | '2.0.0', QueryParameters]>([
    ['no query at all', 'MissingParameterValue', 'service', '1.0.0', undefined],
    ['no service', 'MissingParameterValue', 'service', '2.0.0', { request: 'GetStatus', jobID: ID }],
    ['an empty service', 'MissingParameterValue', 'service', '1.0.0', { service: '', request: 'GetExecutionStatus', executionId: ID }],
    ['another service', 'InvalidParameterValue', 'service', '2.0.0', { service: 'WMS', request: 'GetStatus', jobID: ID }],
    ['no request', 'MissingParameterValue', 'request', '1.0.0', { service: 'WPS', executionId: ID }],
    ['an unsupported version', 'InvalidParameterValue', 'version', '2.0.0', { service: 'WPS', version: '1.1.0', request: 'GetStatus', jobID: ID }],
    ['no executionId', 'MissingParameterValue', 'executionId', '1.0.0', { service: 'WPS', version: '1.0.0', request: 'GetExecutionStatus' }],
    ['an empty executionId', 'MissingParameterValue', 'executionId', '1.0.0', { service: 'WPS', request: 'GetExecutionStatus', executionId: ' ' }],
    ['no jobID', 'MissingParameterValue', 'jobID', '2.0.0', { service: 'WPS', version: '2.0.0', request: 'GetStatus' }],
    ['executionId given to GetStatus', 'MissingParameterValue', 'jobID', '2.0.0', { service: 'WPS', request: 'GetStatus', executionId: ID }],
    ['no id for Dismiss', 'MissingParameterValue', 'jobID', '2.0.0', { service: 'WPS', request: 'Dismiss' }],
    ['1.0.0 Dismiss with only a jobID', 'MissingParameterValue', 'executionId', '1.0.0', { service: 'WPS', version: '1.0.0', request: 'Dismiss', jobID: ID }],
    ['an id that is too long', 'InvalidParameterValue', 'jobID', '2.0.0', { service: 'WPS', request: 'GetStatus', jobID: 'x'.repeat(MAX_ID_LENGTH + 1) }],
    ['an id with a control character', 'InvalidParameterValue', 'executionId', '1.0.0', { service: 'WPS', request: 'GetExecutionStatus', executionId: 'a\u0000b' }],
    ['conflicting duplicate keys', 'InvalidParameterValue', 'JOBID', '2.0.0', { service: 'WPS', request: 'GetStatus', jobID: 'a', JOBID: 'b' }],
    ['GetCapabilities', 'OperationNotSupported', 'GetCapabilities', '1.0.0', { service: 'WPS', request: 'GetCapabilities' }],
    ['Execute', 'OperationNotSupported', 'Execute', '2.0.0', { service: 'WPS', version: '2.0.0', request: 'Execute' }],
    ['DescribeProcess', 'OperationNotSupported', 'describeprocess', '1.0.0', { service: 'WPS', request: 'describeprocess' }],
    ['an unknown request', 'OperationNotSupported', 'Frobnicate', '1.0.0', { service: 'WPS', request: 'Frobnicate' }],
    ['GetExecutionStatus in 2.0.0', 'OperationNotSupported', 'GetExecutionStatus', '2.0.0', { service: 'WPS', version: '2.0.0', request: 'GetExecutionStatus', executionId: ID }],
    ['GetStatus in 1.0.0', 'OperationNotSupported', 'GetStatus', '1.0.0', { service: 'WPS', version: '1.0.0', request: 'GetStatus', jobID: ID }],
    ['GetResult in 1.0.0', 'OperationNotSupported', 'GetResult', '1.0.0', { service: 'WPS', version: '1.0.0', request: 'GetResult', jobID: ID }],
    ['GetResult without jobID', 'MissingParameterValue', 'jobID', '2.0.0', { service: 'WPS', request: 'GetResult', executionId: ID }],
  ])('%s: %s naming %s, rendered for WPS %s', (_label, code, locator, version, query) => {
    const error = thrown(query);
    expect(error).toMatchObject({ exceptionCode: code, locator, wpsVersion: version });
    expect(error.status).toBe(OWS_EXCEPTION_HTTP_STATUS[error.exceptionCode]);
    expect(error.message).not.toBe('');
  });

  it('says what is served instead when asked for an operation the nodes serve', () => {
    expect(thrown({ service: 'WPS', request: 'Execute' }).message).toMatch(/GeoServer node.*GetExecutionStatus, GetStatus, GetResult, Dismiss/);
  });

  it('reads WPS 2.0 GetResult, which defaults to 2.0.0 (it only exists there)', () => {
    expect(parseKvp({ service: 'WPS', request: 'getresult', jobid: ID })).toEqual({ kind: 'wps2-result', jobId: ID });
    expect(parseKvp({ service: 'WPS', version: '2.0.0', request: 'GetResult', jobID: ID })).toEqual({ kind: 'wps2-result', jobId: ID });
  });
});

describe('exceptions and their HTTP status', () => {
  it('uses 400 for bad parameters and 501 for operations this API does not implement', () => {
    expect(OWS_EXCEPTION_HTTP_STATUS).toMatchObject({
      MissingParameterValue: 400,
      InvalidParameterValue: 400,
      OperationNotSupported: 501,
      NoApplicableCode: 400,
      NoSuchJob: 400,
    });
  });

  it('answers an unknown id as GeoServer does in 1.0.0 (NoApplicableCode, HTTP 200) and with NoSuchJob (400) in 2.0.0', () => {
    expect(unknownExecution(ID, '1.0.0')).toMatchObject({ exceptionCode: 'NoApplicableCode', locator: ID, status: 200 });
    expect(unknownExecution(ID, '2.0.0')).toMatchObject({ exceptionCode: 'NoSuchJob', locator: ID, status: 400 });
  });

  it('is an AppError, so the shared error mapping never turns it into a 500', () => {
    const error = unknownExecution(ID, '2.0.0');
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, code: 'NoSuchJob', field: ID });
  });
});
