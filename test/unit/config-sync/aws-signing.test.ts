/**
 * The S3 and SNS calls of configuration sync are signed by our own fetch adapter (the SDK
 * clients do not fit the bundle budget), and the emulators do not check signatures. Here a
 * local endpoint verifies every request the way AWS does (test/support/sigv4-verifier.ts,
 * itself checked against AWS's published examples), through the same adapters the functions use.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsServiceError, SignedFetch } from '../../../lambdas/config-sync/adapters/aws-fetch';
import { S3Bucket } from '../../../lambdas/config-sync/adapters/s3-body-store';
import { SnsEventTopic } from '../../../lambdas/config-sync/adapters/sns-event-topic';
import { SqsQueueDepths } from '../../../lambdas/config-sync/adapters/sqs-queues';
import type { PublishedEvent } from '../../../lambdas/config-sync/events';
import { verifySigV4, type ReceivedRequest, type Verdict } from '../../support/sigv4-verifier';

describe('the SigV4 verifier used below', () => {
  test("reproduces the S3 documentation's GetObject example", () => {
    const verdict = verifySigV4(
      {
        method: 'GET',
        rawUrl: '/test.txt',
        headers: {
          host: 'examplebucket.s3.amazonaws.com',
          range: 'bytes=0-9',
          'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          'x-amz-date': '20130524T000000Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
            'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
            'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
        },
        body: Buffer.alloc(0),
      },
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1', service: 's3' },
    );
    expect(verdict).toEqual({ ok: true });
  });

  test('reproduces a case of the Signature Version 4 test suite (another service, double-encoded path)', () => {
    const verdict = verifySigV4(
      {
        method: 'GET',
        rawUrl: '/',
        headers: {
          host: 'example.amazonaws.com',
          'my-header1': 'value2,value2,value1',
          'x-amz-date': '20150830T123600Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
            'SignedHeaders=host;my-header1;x-amz-date, ' +
            'Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
        },
        body: Buffer.alloc(0),
      },
      { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'us-east-1', service: 'service' },
    );
    expect(verdict).toEqual({ ok: true });
  });
});

const CREDENTIALS = { accessKeyId: 'AKIDPROJECTTEST', secretAccessKey: 'project/test+secret=key' };
const REGION = 'eu-west-1';

interface FakeAws {
  readonly endpoint: string;
  readonly requests: { request: ReceivedRequest; verdict: Verdict }[];
  readonly objects: Map<string, Buffer>;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * An endpoint that accepts only requests signed for `service` with `secretAccessKey`: S3 keeps
 * objects by their decoded path, SNS answers a Publish, SQS the depths of any queue (3 + 1).
 */
async function startFakeAws(service: 's3' | 'sns' | 'sqs', secretAccessKey = CREDENTIALS.secretAccessKey): Promise<FakeAws> {
  const requests: FakeAws['requests'] = [];
  const objects = new Map<string, Buffer>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const request: ReceivedRequest = { method: req.method ?? '', rawUrl: req.url ?? '', headers: req.headers, body: await readBody(req) };
      const verdict = verifySigV4(request, { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey, region: REGION, service, now: new Date() });
      requests.push({ request, verdict });
      if (!verdict.ok) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end(`<Error><Code>SignatureDoesNotMatch</Code><Message>${verdict.reason.split('\n')[0]}</Message></Error>`);
        return;
      }
      if (service === 'sqs') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1' } }));
        return;
      }
      if (service === 'sns') {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end('<PublishResponse><PublishResult><MessageId>m-1</MessageId><SequenceNumber>1</SequenceNumber></PublishResult></PublishResponse>');
        return;
      }
      const key = decodeURIComponent(request.rawUrl.split('?')[0] ?? '');
      if (req.method === 'PUT') objects.set(key, request.body);
      if (req.method === 'DELETE') objects.delete(key);
      const stored = objects.get(key);
      if (req.method === 'GET' && stored === undefined) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
        return;
      }
      res.writeHead(req.method === 'DELETE' ? 204 : 200);
      res.end(req.method === 'GET' ? stored : undefined);
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    objects,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const signedFetch = (service: string) =>
  new SignedFetch({ service, region: REGION, credentials: async () => CREDENTIALS, maxAttempts: 1 });

describe('S3 object calls through SignedFetch', () => {
  let aws: FakeAws;
  let bucket: S3Bucket;

  beforeAll(async () => {
    aws = await startFakeAws('s3');
    bucket = new S3Bucket(signedFetch('s3'), { bucket: 'geo-bodies', region: REGION, endpoint: aws.endpoint, forcePathStyle: true });
  });
  afterAll(() => aws.close());

  // Keys as the stores make them: node names, object ids with a workspace prefix, and characters
  // that URL encoding treats differently (space, +, =, !, ', parentheses, *, non-ASCII).
  const awkwardKeys = [
    'events/geo/000000000042.json',
    'objects/slave 1/style/topp:roads+rivers=v2.json',
    "objects/slave-1/layerGroup/tiger:ny (old)!'*.json",
    'objects/slave-1/style/sf:straße_€.json',
  ];

  test.each(awkwardKeys)('put, get and delete %s are accepted as signed', async (key) => {
    const body = `<StyledLayerDescriptor><Name>${key} äöü €</Name></StyledLayerDescriptor>`;
    const before = aws.requests.length;
    await bucket.putText(key, body, 'application/vnd.ogc.sld+xml');
    expect(aws.objects.get(`/geo-bodies/${key}`)?.toString('utf8')).toBe(body);
    expect(await bucket.getText(key)).toBe(body);
    await bucket.delete(key);
    expect(await bucket.getText(key)).toBeUndefined();

    const verdicts = aws.requests.slice(before).map(({ request, verdict }) => ({ method: request.method, verdict }));
    expect(verdicts).toEqual(['PUT', 'GET', 'DELETE', 'GET'].map((method) => ({ method, verdict: { ok: true } })));
  });

  test('the verifier refuses the same requests once the path or the body is changed', async () => {
    await bucket.putText('objects/slave-1/style/topp:roads.json', '<sld/>');
    const { request } = aws.requests[aws.requests.length - 1]!;
    const options = { ...CREDENTIALS, region: REGION, service: 's3' };
    expect(verifySigV4(request, options)).toEqual({ ok: true });
    expect(verifySigV4({ ...request, rawUrl: request.rawUrl.replace('roads', 'rivers') }, options)).toMatchObject({ ok: false, reason: expect.stringContaining('signature mismatch') });
    expect(verifySigV4({ ...request, body: Buffer.from('<other/>') }, options)).toEqual({ ok: false, reason: 'x-amz-content-sha256 does not match the body sent' });
    expect(verifySigV4(request, { ...options, region: 'us-east-1' })).toMatchObject({ ok: false });
  });
});

describe('SNS Publish through SignedFetch', () => {
  const topicArn = `arn:aws:sns:${REGION}:123456789012:geo-config.fifo`;
  const event = {
    sequence: 42,
    cluster: 'geo',
    origin: 'master-1',
    publishedAt: '2026-11-23T12:00:00.000Z',
    kind: 'modify',
    object: { type: 'style', id: 'topp:roads' },
    patch: { title: 'Roads & rivers + "lakes" = 100% äöü €', abstract: 'line one\nline two', legend: null },
  } as unknown as PublishedEvent;

  test('the form body is accepted as signed and carries the event, its group, dedup id and origin', async () => {
    const aws = await startFakeAws('sns');
    try {
      await new SnsEventTopic(signedFetch('sns'), { topicArn, endpoint: aws.endpoint }).publish(event);
      expect(aws.requests).toHaveLength(1);
      const [{ request, verdict }] = aws.requests as [FakeAws['requests'][number]];
      expect(verdict).toEqual({ ok: true });
      expect(request.method).toBe('POST');
      const form = new URLSearchParams(request.body.toString('utf8'));
      expect(form.get('Action')).toBe('Publish');
      expect(form.get('TopicArn')).toBe(topicArn);
      expect(JSON.parse(form.get('Message') ?? '')).toEqual(event);
      expect(form.get('MessageGroupId')).toEqual(expect.any(String));
      expect(form.get('MessageDeduplicationId')).toEqual(expect.stringContaining('42'));
      expect(form.get('MessageAttributes.entry.1.Name')).toBe('origin');
      expect(form.get('MessageAttributes.entry.1.Value.StringValue')).toBe('master-1');
    } finally {
      await aws.close();
    }
  });

  test('a request signed with other credentials is refused, and the adapter reports it, not retried as success', async () => {
    const aws = await startFakeAws('sns', 'another-secret');
    try {
      const publishing = new SnsEventTopic(signedFetch('sns'), { topicArn, endpoint: aws.endpoint }).publish(event);
      await expect(publishing).rejects.toBeInstanceOf(AwsServiceError);
      await expect(publishing).rejects.toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      expect(aws.requests.map(({ verdict }) => verdict.ok)).toEqual([false]);
    } finally {
      await aws.close();
    }
  });
});

describe('SQS queue depths through SignedFetch', () => {
  test('the JSON-protocol GetQueueAttributes calls are accepted as signed', async () => {
    const aws = await startFakeAws('sqs');
    try {
      const account = `https://sqs.${REGION}.amazonaws.com/123456789012`;
      const queues = { 'slave-1': { queueUrl: `${account}/geo-slave-1.fifo`, deadLetterQueueUrl: `${account}/geo-slave-1-dlq.fifo` } };
      const depths = await new SqsQueueDepths(queues, signedFetch('sqs'), aws.endpoint).depths('slave-1');
      expect(depths).toEqual({ queueDepth: 4, deadLetterDepth: 4 });
      expect(aws.requests.map(({ verdict }) => verdict)).toEqual([{ ok: true }, { ok: true }]);
      const targets = aws.requests.map(({ request }) => [request.headers['x-amz-target'], JSON.parse(request.body.toString('utf8')).QueueUrl]);
      expect(targets).toEqual(
        expect.arrayContaining([
          ['AmazonSQS.GetQueueAttributes', queues['slave-1'].queueUrl],
          ['AmazonSQS.GetQueueAttributes', queues['slave-1'].deadLetterQueueUrl],
        ]),
      );
    } finally {
      await aws.close();
    }
  });
});
