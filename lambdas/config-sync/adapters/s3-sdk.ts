/**
 * The parts of the S3 client that s3-body-store.ts sends with. A module of its own so that
 * it can be required on the first offloaded body and bundled into a file of its own
 * (DEFERRED_MODULES in cdk/constructs/cluster-function.ts), out of every function's cold start.
 */
export { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
