import { describe, expect, it } from 'vitest';
import {
  checkDocker,
  classifyDockerInfo,
  describeDocker,
  dockerProblem,
  DOCKER_INFO_ARGV,
} from '../../server/cluster/docker.js';
import type { RunResult } from '../../server/cluster/runner.js';
import { FakeRunner, fixture } from './helpers/fake-runner.js';

const result = (over: Partial<RunResult>): RunResult => ({
  argv: DOCKER_INFO_ARGV,
  exitCode: 0,
  stdout: '',
  stderr: '',
  notFound: false,
  timedOut: false,
  ...over,
});

describe('classifyDockerInfo', () => {
  it('reads the server version when the daemon answers', () => {
    expect(classifyDockerInfo(result({ stdout: '28.2.2\n' }))).toEqual({
      status: 'ok',
      serverVersion: '28.2.2',
    });
  });

  it('reads the cgroup version next to it (Kubernetes 1.35 refuses cgroup v1 hosts)', () => {
    expect(DOCKER_INFO_ARGV).toEqual(['docker', 'info', '--format', '{{.ServerVersion}} {{.CgroupVersion}}']);
    expect(classifyDockerInfo(result({ stdout: '28.2.2 2\n' }))).toEqual({
      status: 'ok',
      serverVersion: '28.2.2',
      cgroupVersion: '2',
    });
    const v1 = classifyDockerInfo(result({ stdout: '24.0.7 1\n' }));
    expect(v1).toEqual({ status: 'ok', serverVersion: '24.0.7', cgroupVersion: '1' });
    expect(describeDocker(v1).summary).toBe('Docker daemon reachable (server 24.0.7, cgroup v1)');
    // A daemon older than 20.10 renders the unknown field as "<no value>".
    expect(classifyDockerInfo(result({ stdout: '19.03.15 <no value>\n' }))).toEqual({
      status: 'ok',
      serverVersion: '19.03.15',
    });
  });

  it('recognises the recorded "no daemon" output (docker CLI present, daemon absent)', () => {
    const state = classifyDockerInfo(
      result({ exitCode: 1, stdout: '\n', stderr: fixture('docker-info-no-daemon.stderr.txt') }),
    );
    expect(state.status).toBe('daemon-down');
    expect(describeDocker(state).summary).toContain('unix:///var/run/docker.sock');
  });

  it('recognises a DOCKER_HOST that points nowhere', () => {
    const state = classifyDockerInfo(
      result({ exitCode: 1, stderr: fixture('docker-info-bad-docker-host.stderr.txt') }),
    );
    expect(state).toMatchObject({
      status: 'daemon-down',
      detail: expect.stringContaining('/nonexistent/docker.sock'),
    });
  });

  it('tells permission problems apart (the fix is different)', () => {
    const stderr =
      'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.50/info": dial unix /var/run/docker.sock: connect: permission denied\n';
    const state = classifyDockerInfo(result({ exitCode: 1, stderr }));
    expect(state.status).toBe('permission-denied');
    expect(describeDocker(state).fix).toContain('docker group');
  });

  it('knows when docker is not installed at all', () => {
    expect(classifyDockerInfo(result({ exitCode: undefined, notFound: true }))).toEqual({
      status: 'not-installed',
    });
  });

  it('treats a docker info that hangs as an unreachable daemon', () => {
    expect(classifyDockerInfo(result({ exitCode: undefined, timedOut: true })).status).toBe('daemon-down');
  });

  it('does not call an empty answer with exit 0 "ok"', () => {
    expect(classifyDockerInfo(result({ stdout: '\n' })).status).toBe('error');
  });
});

describe('checkDocker / dockerProblem', () => {
  it('runs the cheap form of docker info with a timeout and builds one ENVIRONMENT error', async () => {
    const runner = new FakeRunner({
      'docker info': { exitCode: 1, stderr: fixture('docker-info-no-daemon.stderr.txt') },
    });
    const state = await checkDocker(runner);
    expect(runner.calls[0]?.argv).toEqual(DOCKER_INFO_ARGV);
    expect(runner.calls[0]?.opts.timeoutMs).toBeGreaterThan(0);
    const err = dockerProblem(state, 'Creating the kind cluster');
    expect(err.code).toBe('ENVIRONMENT');
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(
      /^Creating the kind cluster needs Docker, but the Docker daemon is not reachable/,
    );
    expect(err.hint).toContain('Start Docker');
    expect(err.hint).toContain('simulated cluster');
  });
});
