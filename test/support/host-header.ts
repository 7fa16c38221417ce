/**
 * One HTTP request with a Host header of the test's choosing (fetch() sets Host from the URL and
 * will not be told otherwise): how a page that rebinds its own name to 127.0.0.1 reaches a local
 * listener, its name in Host.
 */
import { request } from 'node:http';

export interface HostAnswer {
  status: number;
  body: string;
}

export function requestWithHost(
  url: string,
  host: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<HostAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        headers: { ...options.headers, host },
        // A fresh connection each time: a kept-alive one could hide whether the refusal is per request.
        agent: false,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        answer.on('error', reject);
      },
    );
    sent.on('error', reject);
    sent.end(options.body);
  });
}
