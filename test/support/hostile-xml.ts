/**
 * XML request bodies for POST /ows, shared by the tests and `npm run bench`: a normal WPS 2.0
 * GetStatus, and the namespace-declaration bomb of issue 9 (a 64 KB body: 2,500 `xmlns:`
 * declarations on the root and 6,500 empty children), which once cost a hand-written reader
 * seconds of CPU per request.
 */
const WPS2 = 'http://www.opengis.net/wps/2.0';

export function getStatusXml(jobId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<wps:GetStatus xmlns:wps="${WPS2}" service="WPS" version="2.0.0"><wps:JobID>${jobId}</wps:JobID></wps:GetStatus>`;
}

export function namespaceBombXml(jobId: string, declarations = 2500, children = 6500): string {
  const declared = Array.from({ length: declarations }, (_, i) => ` xmlns:a${i.toString(36)}="u"`).join('');
  return `<wps:GetStatus xmlns:wps="${WPS2}"${declared} service="WPS" version="2.0.0">${'<a/>'.repeat(children)}<wps:JobID>${jobId}</wps:JobID></wps:GetStatus>`;
}
