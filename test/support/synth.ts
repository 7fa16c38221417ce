import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { createClusterApp, withQuietBundling } from '../../cdk/app';
import { bundleCacheDir } from '../../cdk/bundle-cache';
import { flattenNestedStacks } from '../../local/nested-stacks';
import { OPENAPI_DOCUMENT_FILE } from '../../lambdas/shared/openapi-file';

export interface Synthesized {
  template: Template;
  json: { Resources: Record<string, { Type: string; Properties?: any; DeletionPolicy?: string; UpdateReplacePolicy?: string }> };
  validationReport: { pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[] };
  /**
   * The cluster's stack as CloudFormation gets it (nested stacks as `AWS::CloudFormation::Stack`
   * resources, not inlined), and each nested stack's own template by its logical id there.
   */
  stacks: { cluster: Synthesized['json']; nested: Record<string, Synthesized['json']> };
  /** The synth's warnings (`Annotations.addWarningV2`), as `cdk synth` prints them. */
  warnings: string[];
  /**
   * The OpenAPI document of the function that serves GET /openapi.json: read from its asset when
   * bundled; otherwise the file the synth wrote for its bundling to copy (`<outdir>/openapi/`).
   */
  openApiDocument: unknown;
  /** The node -> GeoServer URL file the synth wrote for the config-sync functions that read it to bundle (GEOSERVER_NODES_FILE). */
  geoServerNodes: unknown;
}

export interface SynthesizeOptions {
  /**
   * Bundle every function's code with esbuild, as `cdk synth` does. Most assertions read the
   * template only, and bundling ~30 functions is most of a synth's time, so it is off unless a
   * test reads a bundle (`openApiDocument`). Without it each function's asset is a placeholder.
   * @default false
   */
  readonly bundle?: boolean;
}

/** Synthesizes the app (with cdk-nag, which throws on unacknowledged findings) for assertions. */
export function synthesize(clusterOverrides: Record<string, unknown> = {}, options: SynthesizeOptions = {}): Synthesized {
  const base = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;
  const outdir = mkdtempSync(path.join(tmpdir(), 'sgc-synth-'));
  // CDK's own switch (`cdk synth --exclusively` uses it): the stacks whose assets are bundled.
  const bundling = options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] };
  try {
    const { assembly, stack } = withQuietBundling(() => {
      const { app, stack } = createClusterApp({
        outdir,
        context: { ...base, ...bundling, cluster: { ...base.cluster, ...clusterOverrides } },
        // Bundles unchanged since an earlier synth or cluster start are reused (cdk/bundle-cache.ts).
        bundleCacheDir: options.bundle ? bundleCacheDir() : undefined,
      });
      return { assembly: app.synth(), stack };
    });
    const artifact = assembly.getStackArtifact(stack.artifactId);
    // The cluster's stack with each node's nested stack inlined, as the local runtime reads it.
    const json = flattenNestedStacks(artifact.template, outdir) as Synthesized['json'];
    const cluster = artifact.template as Synthesized['json'];
    const nested = Object.fromEntries(
      Object.entries(cluster.Resources)
        .filter(([, resource]) => resource.Type === 'AWS::CloudFormation::Stack')
        .map(([id, resource]) => [id, JSON.parse(readFileSync(path.join(outdir, String((resource as { Metadata?: Record<string, unknown> }).Metadata?.['aws:asset:path'])), 'utf8'))]),
    );
    const validationReport = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    const warnings = artifact.messages.filter((message) => message.level === 'warning').map((message) => String(message.entry.data));
    const openApiDocument = options.bundle ? bundledOpenApiDocument(json, outdir) : writtenOpenApiDocument(outdir);
    const geoServerNodes = writtenFile(outdir, 'geoserver-nodes');
    return { template: Template.fromJSON(json), json, stacks: { cluster, nested }, validationReport, warnings, openApiDocument, geoServerNodes };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The document the synth wrote for the OpenApiDocument function's bundling to copy (one per synth). */
function writtenOpenApiDocument(outdir: string): unknown {
  return writtenFile(outdir, 'openapi');
}

/** The JSON file of `kind` the synth wrote for a function's bundling to copy (one per synth; cluster-function.ts, writeSynthFile). */
function writtenFile(outdir: string, kind: string): unknown {
  const folder = path.join(outdir, kind);
  const files = existsSync(folder) ? readdirSync(folder) : [];
  if (files.length > 1) throw new Error(`The synth wrote ${files.length} ${kind} files: ${files.join(', ')}`);
  return files.length === 1 ? JSON.parse(readFileSync(path.join(folder, files[0]!), 'utf8')) : undefined;
}

function bundledOpenApiDocument(json: { Resources: Record<string, { Type: string; Metadata?: Record<string, unknown> }> }, outdir: string): unknown {
  const fn = Object.entries(json.Resources).find(([id, resource]) => resource.Type === 'AWS::Lambda::Function' && id.includes('OpenApiDocument'))?.[1];
  const assetPath = fn?.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') throw new Error('The template has no OpenApiDocument function with a bundled asset');
  return JSON.parse(readFileSync(path.join(outdir, assetPath, OPENAPI_DOCUMENT_FILE), 'utf8'));
}

/** Every IAM statement attached to a function's execution role. */
export function statementsOf(
  json: Synthesized['json'],
  functionLogicalId: string,
): { Action: string | string[]; Resource: unknown; Effect: string; Condition?: Record<string, Record<string, unknown>> }[] {
  const role = json.Resources[functionLogicalId]?.Properties?.Role?.['Fn::GetAtt']?.[0];
  return Object.values(json.Resources)
    .filter((resource) => ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(resource.Type) && (resource.Properties.Roles ?? []).some((r: { Ref: string }) => r.Ref === role))
    .flatMap((resource) => resource.Properties.PolicyDocument.Statement);
}

export function functionId(json: Synthesized['json'], constructId: string): string {
  const id = Object.keys(json.Resources).find(
    (logicalId) => json.Resources[logicalId]!.Type === 'AWS::Lambda::Function' && logicalId.includes(constructId),
  );
  if (!id) throw new Error(`No function ${constructId} in the template`);
  return id;
}

/** The logical ids of the template's resources of one type, in template order. */
export function logicalIdsOf(json: Synthesized['json'], type: string): string[] {
  return Object.keys(json.Resources).filter((logicalId) => json.Resources[logicalId]!.Type === type);
}

/** The actions of an IAM statement as an array. */
export function actionsOfStatement(statement: { Action: string | string[] }): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** What X-Ray active tracing grants every function (on `*`: these actions have no resource-level permissions). */
export const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
