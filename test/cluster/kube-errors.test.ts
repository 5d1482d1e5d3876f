import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  interpretExecStatus,
  mapExecOpenError,
  mapKubeError,
  parseStatusBody,
} from '../../server/cluster/kube-errors.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const json = (name: string): unknown => JSON.parse(fixture(name));
const ctx = { action: 'apply NetworkPolicy np-lab/np-backend', server: 'https://127.0.0.1:41235' };
// The client hands bodies over as the response text.
const apiError = (code: number, file?: string) =>
  new ApiException(code, 'Unknown API Status Code!', file ? fixture(file) : undefined, {});

describe('exec statuses -> exit codes', () => {
  it('Success is exit 0', () => {
    expect(interpretExecStatus(json('exec-status-success.json'))).toEqual({ kind: 'exit', exitCode: 0 });
  });

  it("a Failure with an ExitCode cause carries the command's own exit code", () => {
    expect(interpretExecStatus(json('exec-status-exit-7.json'))).toEqual({ kind: 'exit', exitCode: 7 });
    expect(interpretExecStatus(json('exec-status-exit-124.json'))).toEqual({ kind: 'exit', exitCode: 124 });
  });

  it('a Failure without an ExitCode means the command never ran (missing binary): not an exit code', () => {
    const outcome = interpretExecStatus(json('exec-status-binary-missing.json'));
    expect(outcome.kind).toBe('failure');
    expect(outcome.kind === 'failure' && outcome.message).toContain('executable file not found');
  });

  it('never invents an exit code from garbage', () => {
    expect(interpretExecStatus(undefined).kind).toBe('failure');
    expect(
      interpretExecStatus({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: 'x' }] } })
        .kind,
    ).toBe('failure');
  });
});

describe('API errors -> KubelabError', () => {
  it('422 becomes BAD_INPUT with one problem per cause and its field path', () => {
    const err = mapKubeError(apiError(422, 'api-status-422-networkpolicy.json'), ctx);
    expect(err.code).toBe('BAD_INPUT');
    expect(err.problems).toEqual([
      {
        path: 'spec.egress[0].ports[0].port',
        message: 'Invalid value: 70000: must be between 1 and 65535, inclusive',
      },
    ]);
  });

  it('401 and RBAC 403 are ENVIRONMENT problems with a next step', () => {
    const unauthorized = mapKubeError(new ApiException(401, 'Unauthorized', undefined, {}), ctx);
    expect(unauthorized).toMatchObject({ code: 'ENVIRONMENT', message: expect.stringContaining('401') });
    const forbidden = mapKubeError(apiError(403, 'api-status-403-rbac.json'), ctx);
    expect(forbidden.code).toBe('ENVIRONMENT');
    expect(forbidden.message).toContain('cannot patch resource');
    expect(forbidden.hint).toContain('permission');
  });

  it('a terminating namespace says to wait, not to fix permissions', () => {
    const err = mapKubeError(apiError(403, 'api-status-403-terminating.json'), ctx);
    expect(err.message).toContain('still being deleted');
    expect(err.hint).toContain('Wait');
  });

  it('404 is NOT_FOUND (callers that accept absence check the code)', () => {
    expect(mapKubeError(apiError(404, 'api-status-404-namespace.json'), ctx)).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('namespaces "np-lab" not found'),
    });
  });

  it('5xx, 409 and 429 are ENVIRONMENT', () => {
    for (const code of [500, 503, 409, 429])
      expect(mapKubeError(apiError(code), ctx).code).toBe('ENVIRONMENT');
  });

  it('connection refused names the server and says to check the cluster', () => {
    const refused = Object.assign(
      new Error(
        'request to https://127.0.0.1:41235/api/v1/pods failed, reason: connect ECONNREFUSED 127.0.0.1:41235',
      ),
      {
        name: 'FetchError',
        type: 'system',
        code: 'ECONNREFUSED',
        errno: 'ECONNREFUSED',
      },
    );
    const err = mapKubeError(refused, ctx);
    expect(err.code).toBe('ENVIRONMENT');
    expect(err.message).toContain(
      'cannot reach the Kubernetes API server at https://127.0.0.1:41235 (connection refused)',
    );
    expect(err.hint).toContain('kubelab cluster status');
  });

  it('certificate failures and timeouts are ENVIRONMENT with their own words', () => {
    const cert = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    expect(mapKubeError(cert, ctx).message).toContain('TLS certificate');
    const abort = Object.assign(new Error('The user aborted a request.'), { name: 'AbortError' });
    expect(mapKubeError(abort, ctx).message).toContain('did not answer in time');
  });

  it("an unknown kind is the input's fault", () => {
    expect(
      mapKubeError(new Error('Unrecognized API version and kind: example.com/v1 Gadget'), ctx),
    ).toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('kind Gadget') });
  });

  it('parses Status bodies given as text or objects, and tolerates plain text', () => {
    expect(parseStatusBody(fixture('api-status-404-namespace.json'))?.reason).toBe('NotFound');
    expect(parseStatusBody({ message: 'x', code: 500 })).toEqual({ message: 'x', code: 500 });
    expect(parseStatusBody('upstream connect error')).toEqual({ message: 'upstream connect error' });
  });
});

describe('exec websocket open errors', () => {
  const event = (message: string) => ({ type: 'error', message, error: new Error(message) });
  it('maps the upgrade status the ws library reports', () => {
    expect(mapExecOpenError(event('Unexpected server response: 404'), 'np-lab/backend-1').message).toContain(
      'does not exist',
    );
    expect(mapExecOpenError(event('Unexpected server response: 403'), 'np-lab/backend-1').hint).toContain(
      'pods/exec',
    );
    expect(mapExecOpenError(event('Unexpected server response: 400'), 'np-lab/backend-1').message).toContain(
      'not be running',
    );
  });

  it('falls back to the network mapping', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(
      mapExecOpenError({ type: 'error', message: err.message, error: err }, 'a/b', 'https://x').message,
    ).toContain('connection refused');
  });
});
