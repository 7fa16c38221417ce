/**
 * GeoServer nodes on the local cluster. There is no Secrets Manager here, so each apply
 * function of a node with a GeoServer gets its credentials in `GEOSERVER_CREDENTIALS`, taken
 * from this process's environment: `GEOSERVER_CREDENTIALS_<NODE>` (the node's name in capitals,
 * `-` as `_`, e.g. `GEOSERVER_CREDENTIALS_SLAVE_1`), else `GEOSERVER_CREDENTIALS`, else
 * GeoServer's default administrator `admin:geoserver` (what the official image starts with).
 * Values are `user:password` or `{"username": "...", "password": "..."}`.
 *
 * `GEOSERVER_URLS` gives nodes a GeoServer without editing the cluster file:
 * `slave-1=http://localhost:8081/geoserver,slave-2=http://localhost:8082/geoserver`.
 */
export const DEFAULT_LOCAL_CREDENTIALS = 'admin:geoserver';

export function localCredentialsVariable(node: string): string {
  return `GEOSERVER_CREDENTIALS_${node.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function localGeoServerCredentials(node: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[localCredentialsVariable(node)] || env.GEOSERVER_CREDENTIALS || DEFAULT_LOCAL_CREDENTIALS;
}

/** `GEOSERVER_URLS` as node -> URL. */
export function parseGeoServerUrls(raw: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const entry of raw.split(',').map((part) => part.trim()).filter(Boolean)) {
    const separator = entry.indexOf('=');
    if (separator <= 0) throw new Error(`GEOSERVER_URLS: '${entry}' must be node=url`);
    urls[entry.slice(0, separator)] = entry.slice(separator + 1);
  }
  return urls;
}

/**
 * The cluster configuration with `urls` given to its nodes (a node named there must be
 * declared). Each node's secret name is only a label locally.
 */
export function withGeoServerUrls(cluster: unknown, urls: Readonly<Record<string, string>>): unknown {
  if (typeof cluster !== 'object' || cluster === null || !Array.isArray((cluster as { nodes?: unknown }).nodes)) return cluster;
  const nodes = (cluster as { nodes: Record<string, unknown>[] }).nodes;
  for (const name of Object.keys(urls)) {
    if (!nodes.some((node) => node.name === name)) throw new Error(`GEOSERVER_URLS names ${name}, which the cluster does not declare`);
  }
  return {
    ...cluster,
    nodes: nodes.map((node) => {
      const url = typeof node.name === 'string' ? urls[node.name] : undefined;
      return url === undefined ? node : { ...node, geoserver: { url, credentialsSecret: `local/${String(node.name)}` } };
    }),
  };
}
