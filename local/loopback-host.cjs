'use strict';
/**
 * DNS rebinding protection for the local listeners (the API's /__local controls, the DynamoDB IAM
 * gate, the Lambda API, fauxqs; local/java/LoopbackDynamoDbLocal.java applies the same rule to
 * DynamoDB Local). They listen on 127.0.0.1 only, but a web page the developer visits can rebind
 * its own name to 127.0.0.1: the browser then sends it there as same-origin, with no CORS
 * preflight, and lets the page read the answer. What gives it away is the Host header, which
 * carries the page's name. So a request is served only when its Host names this machine:
 * 127.0.0.1, localhost, [::1] or a name under .localhost (which resolvers and browsers keep on
 * loopback, RFC 6761: fauxqs's own queue URLs use sqs.<region>.localhost), with or without a port.
 *
 * Plain CommonJS so that the fauxqs child process (local/fauxqs.ts), which runs without tsx,
 * loads this same code; loopback-host.d.cts gives its types.
 */

/** The host part of a Host header, lower-cased, or undefined when it is not `name[:port]`. */
function hostName(header) {
  if (typeof header !== 'string') return undefined;
  const match = /^(\[[0-9a-f:.]+\]|[^\s:[\]/@]+)(?::(\d{1,5}))?$/i.exec(header.trim());
  return match ? match[1].toLowerCase() : undefined;
}

/**
 * Whether `header` (a request's Host) names this machine's loopback, or one of `allowed`
 * (names without a port, compared case-insensitively).
 */
function isLoopbackHost(header, allowed = []) {
  const name = hostName(header);
  if (name === undefined) return false;
  if (name === '127.0.0.1' || name === 'localhost' || name === '[::1]' || name.endsWith('.localhost')) return true;
  return allowed.some((candidate) => candidate.toLowerCase() === name);
}

/** What a refused request is told: the Host it carried, which names are served, and why. */
function foreignHostMessage(header, service) {
  const given = typeof header === 'string' ? `Host '${header}'` : 'A request without a Host header';
  return (
    `${given} is not a loopback name: ${service} serves only requests addressed to 127.0.0.1, localhost, [::1] or a name under .localhost ` +
    '(with or without the port), so that a web page cannot reach it by rebinding its own name to this machine (DNS rebinding)'
  );
}

/** Answers 403 with the message as JSON (`message`: what AWS SDKs and the CLI print). */
function refuse(response, header, service) {
  const body = JSON.stringify({ message: foreignHostMessage(header, service) });
  response.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.end(body);
}

/**
 * Puts the check in front of every request listener `server` has now (an http.Server a library
 * created, e.g. fauxqs's), so that those listeners see only requests addressed to loopback.
 */
function guardServer(server, service) {
  const listeners = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', function (request, response) {
    if (!isLoopbackHost(request.headers.host)) {
      // Whatever the caller still sends is not read.
      request.resume();
      refuse(response, request.headers.host, service);
      return;
    }
    for (const listener of listeners) listener.call(this, request, response);
  });
  return server;
}

module.exports = { hostName, isLoopbackHost, foreignHostMessage, refuse, guardServer };
