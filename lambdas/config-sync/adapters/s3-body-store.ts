/**
 * Large bodies in the S3 bucket `EVENT_BODY_BUCKET_NAME`:
 * - `events/<cluster>/<uuid>.json`: changes too large for an SNS message (`EventBodyStore`).
 *   The body is stored before the log gives the event its sequence (the log append is the
 *   single commit point), so the key is a random id, not the sequence. A body whose append
 *   then failed is never referenced; the bucket's lifecycle rules may expire such orphans.
 * - `objects/<node>/<type>/<id>/<sequence>.json`: a node store object's properties when they
 *   are too large for a DynamoDB item (`ObjectBodies`, used by the node store). One key per
 *   object version, never overwritten, so a slow writer can never replace a newer version's
 *   body with an older one.
 *
 * Requests go through the SDK's S3 client, with its own retry strategy (standard mode).
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvalidConfigEventError } from '../errors';
import type { ConfigChange } from '../events';
import type { EventBodyStore } from '../ports';

/** The three object operations the bodies need, on one bucket. */
export class S3Bucket {
  constructor(
    private readonly client: S3Client,
    readonly name: string,
  ) {}

  async putText(key: string, text: string, contentType = 'application/json'): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: text, ContentType: contentType }));
  }

  /** The object's text, or `undefined` when there is no such key. */
  async getText(key: string): Promise<string | undefined> {
    try {
      const { Body: body } = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      return body === undefined ? '' : await body.transformToString('utf-8');
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key }));
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
  /** The JSON text, or `undefined` when the key no longer exists (a newer version replaced it). */
  get(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
}

export const OBJECT_BODY_PREFIX = 'objects/';

export class S3ObjectBodies implements ObjectBodies {
  constructor(private readonly bucket: S3Bucket) {}

  async put(node: string, objectKey: string, sequence: number, json: string): Promise<string> {
    // `type/id`: the id may hold any character but `/`, `:` and white space; it is kept
    // readable but encoded, so the key has exactly the segments the layout above names.
    const separator = objectKey.indexOf('/');
    const type = objectKey.slice(0, separator);
    const id = encodeURIComponent(objectKey.slice(separator + 1));
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
