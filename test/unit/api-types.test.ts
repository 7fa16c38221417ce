import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('cli/api-types.ts', () => {
  it('is what openapi-typescript generates from the OpenAPI document GET /openapi.json serves', () => {
    // Fails (non-zero exit, thrown here) when the checked-in types drift from the document.
    const output = execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['tools/generate-api-types.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(output).toContain('matches the OpenAPI document');
  });
});
