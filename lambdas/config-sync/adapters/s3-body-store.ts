/**
 * Large bodies in the S3 bucket `EVENT_BODY_BUCKET_NAME`:
 * - `events/<cluster>/<uuid>.json`: changes too large for an SNS message (`EventBodyStore`).
 *   The body is stored before the log gives the event its sequence (the log append is the
 *   single commit point), so the key is a random id, not the sequence: a new key per put, so a
 *   retry under the same Idempotency-Key stores a body of its own and never shares one. A body
 *   whose append then stored nothing is never referenced, and the publisher deletes it
 *   (publish.ts); the bucket's lifecycle rules expire only noncurrent versions.
 * - `objects/<node>/<type>/<id>/<sequence>.json`: a node store object's properties when they
 *   are too large for a DynamoDB item (`ObjectBodies`, used by the node store). One key per
 *   object version, never overwritten, so a slow writer can never replace a newer version's
 *   body with an older one. `<id>` is the id URI-encoded, or `sha256-<hex>` of it when that
 *   would be longer than 600 characters (an S3 key holds at most 1,024 bytes, and an id of 512
 *   bytes encodes to up to three times as many).
 *
 * Requests go through the SDK's S3 client, with its own retry strategy (standard mode).
 *
 * The S3 client is loaded on the first request, not at cold start: few changes are large
 * enough to be offloaded, yet the client took a config-sync function's cold import from
 * about 1.3x to 1.6-1.9x a bare GetItem handler's (`npm run bench -- --only bundles`). It is
 * required from ./s3-sdk.ts, which the functions' bundling leaves out of index.js and bundles
 * into a file of its own beside it (DEFERRED_MODULES in cdk/constructs/cluster-function.ts):
 * a function that never offloads a body neither parses nor runs it. `require`, not `import()`:
 * the bundles are CommonJS, and Jest runs the sources without ES module support.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { InvalidConfigEventError } from '../errors';
import type { ConfigChange } from '../events';
import type { EventBodyStore } from '../ports';

/** The S3 client and the commands the bodies send (./s3-sdk.ts). */
export type S3Sdk = typeof import('./s3-sdk');

/** Loads the S3 client's module on first use (Node keeps it for the process). */
function loadS3Sdk(): S3Sdk {
  // The specifier is DEFERRED_MODULES' (cdk/constructs/cluster-function.ts): keep them alike.
  return require('./s3-sdk') as S3Sdk;
}

/** The three object operations the bodies need, on one bucket. */
export class S3Bucket {
  private connection: { sdk: S3Sdk; client: S3Client } | undefined;

  /**
   * @param client the client to send with, or a function that creates it from the SDK module
   *   on the first request (so a function that never offloads a body never loads the module)
   */
  constructor(
    private readonly client: S3Client | ((sdk: S3Sdk) => S3Client),
    readonly name: string,
  ) {}

  async putText(key: string, text: string, contentType = 'application/json'): Promise<void> {
    const { sdk, client } = this.connect();
    await client.send(new sdk.PutObjectCommand({ Bucket: this.name, Key: key, Body: text, ContentType: contentType }));
  }

  /** The object's text, or `undefined` when there is no such key. */
  async getText(key: string): Promise<string | undefined> {
    const { sdk, client } = this.connect();
    try {
      const { Body: body } = await client.send(new sdk.GetObjectCommand({ Bucket: this.name, Key: key }));
      return body === undefined ? '' : await body.transformToString('utf-8');
    } catch (error) {
      if (error instanceof sdk.NoSuchKey) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const { sdk, client } = this.connect();
    await client.send(new sdk.DeleteObjectCommand({ Bucket: this.name, Key: key }));
  }

  private connect(): { sdk: S3Sdk; client: S3Client } {
    if (this.connection === undefined) {
      const sdk = loadS3Sdk();
      this.connection = { sdk, client: typeof this.client === 'function' ? this.client(sdk) : this.client };
    }
    return this.connection;
  }
}

const REF_PREFIX = 's3://';
export const EVENT_BODY_PREFIX = 'events/';

/** `EventBodyStore` on S3: references are `s3://<bucket>/events/<cluster>/<uuid>.json`. */
export class S3EventBodyStore implements EventBodyStore {
  constructor(
    private readonly bucket: S3Bucket,
    private readonly newId: () => string = randomUUID,
  ) {}

  async put(cluster: string, change: ConfigChange): Promise<string> {
    const key = `${EVENT_BODY_PREFIX}${cluster}/${this.newId()}.json`;
    await this.bucket.putText(key, JSON.stringify(change));
    return `${REF_PREFIX}${this.bucket.name}/${key}`;
  }

  async get(bodyRef: string): Promise<unknown> {
    const key = this.keyOf(bodyRef);
    const text = await this.bucket.getText(key);
    if (text === undefined) throw new Error(`Event body ${bodyRef} does not exist`);
    return JSON.parse(text) as unknown;
  }

  /**
   * In the versioned bucket a delete adds a delete marker: the body becomes a noncurrent
   * version, which the bucket's lifecycle rule expires (30 days).
   */
  async delete(bodyRef: string): Promise<void> {
    await this.bucket.delete(this.keyOf(bodyRef));
  }

  /**
   * Only references into this bucket's event bodies are followed: a message is input, and a
   * forged reference must not make a function read anything else it may read.
   */
  private keyOf(bodyRef: string): string {
    const prefix = `${REF_PREFIX}${this.bucket.name}/${EVENT_BODY_PREFIX}`;
    if (!bodyRef.startsWith(prefix) || bodyRef.includes('..')) {
      throw new InvalidConfigEventError([{ field: 'bodyRef', message: `must be an event body of bucket ${this.bucket.name}` }]);
    }
    return bodyRef.slice(REF_PREFIX.length + this.bucket.name.length + 1);
  }
}

/** Large properties of node store objects, under `objects/<node>/`. */
export interface ObjectBodies {
  /** Stores the properties' JSON text; returns the key the item records. */
  put(node: string, objectKey: string, sequence: number, json: string): Promise<string>;
  /**
   * The JSON text, or `undefined` when the key no longer exists (a newer version replaced it) and
   * the caller may list the bucket; the functions may not, so in AWS that is a 403 AccessDenied.
   */
  get(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
}

export const OBJECT_BODY_PREFIX = 'objects/';
/** The longest `<id>` segment of an object body's key written as the encoded id (see the file comment). */
const MAX_ID_SEGMENT = 600;

export class S3ObjectBodies implements ObjectBodies {
  constructor(private readonly bucket: S3Bucket) {}

  async put(node: string, objectKey: string, sequence: number, json: string): Promise<string> {
    // `type/id`: the id may hold any character but `/`, `:` and white space; it is kept
    // readable but encoded, so the key has exactly the segments the layout above names.
    const separator = objectKey.indexOf('/');
    const type = objectKey.slice(0, separator);
    const objectId = objectKey.slice(separator + 1);
    const encoded = encodeURIComponent(objectId);
    const id = encoded.length <= MAX_ID_SEGMENT ? encoded : `sha256-${createHash('sha256').update(objectId).digest('hex')}`;
    const key = `${OBJECT_BODY_PREFIX}${node}/${type}/${id}/${sequence}.json`;
    await this.bucket.putText(key, json);
    return key;
  }

  get(key: string): Promise<string | undefined> {
    return this.bucket.getText(key);
  }

  delete(key: string): Promise<void> {
    return this.bucket.delete(key);
  }
}
