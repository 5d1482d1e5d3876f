import { describe, expect, it } from 'vitest';
import {
  checkKubectl,
  interactiveExec,
  REFUSED_FLAGS,
  REFUSED_SUBCOMMANDS,
} from '../../server/terminal/policy.js';

const words = (line: string) => line.split(/\s+/).filter(Boolean);
const verdict = (line: string) => checkKubectl(words(line));
const refusal = (line: string) => {
  const v = verdict(line);
  return v.ok ? undefined : v.message;
};

describe('refused subcommands', () => {
  it.each(Object.keys(REFUSED_SUBCOMMANDS))('kubectl %s is refused with its reason', (sub) => {
    expect(refusal(`${sub} something`)).toBe(REFUSED_SUBCOMMANDS[sub]);
    // Also behind the flags allowed before the subcommand.
    expect(refusal(`-n np-lab ${sub}`)).toBe(REFUSED_SUBCOMMANDS[sub]);
    expect(refusal(`--namespace=np-lab ${sub}`)).toBe(REFUSED_SUBCOMMANDS[sub]);
  });

  it('names the reason for the dangerous ones in words', () => {
    expect(refusal('cp np-lab/backend-0:/etc/passwd /tmp/x')).toMatch(/files/);
    expect(refusal('proxy --port=8001')).toMatch(/opens a port/);
    expect(refusal('port-forward svc/db1 1111')).toMatch(/opens a port/);
    expect(refusal('attach backend-0')).toMatch(/attach/);
    expect(refusal('config view --raw')).toMatch(/kubeconfig/);
    expect(refusal('plugin list')).toMatch(/other programs/);
    expect(refusal('edit networkpolicy np-backend')).toMatch(/editor/);
    expect(refusal('debug backend-0 -it --image=busybox')).toMatch(/debugging/);
    expect(refusal('completion bash')).toMatch(/Tab/);
    expect(refusal('krew install x')).toMatch(/plugins/);
  });

  it('refuses commands it does not know (plugins would be looked up for them)', () => {
    expect(refusal('foo bar')).toMatch(/kubectl foo is not available/);
    expect(refusal('ns')).toMatch(/not available/);
  });

  it('refuses apply edit-last-applied and cluster-info dump', () => {
    expect(refusal('apply edit-last-applied deploy/backend')).toMatch(/editor/);
    expect(refusal('cluster-info dump --output-directory=/tmp/x')).toMatch(/directories/);
    expect(refusal('cluster-info dump')).toMatch(/directories/);
    expect(verdict('cluster-info').ok).toBe(true);
  });
});

describe('refused flags', () => {
  const names = Object.keys(REFUSED_FLAGS);
  it.each(names)('--%s is refused in every spelling and position', (name) => {
    const message = REFUSED_FLAGS[name];
    expect(refusal(`get pods --${name}=x`)).toBe(message);
    expect(refusal(`get pods --${name} x`)).toBe(message);
    expect(refusal(`get pods --${name}`)).toBe(message);
    expect(refusal(`get pods --${name.replace(/-/g, '_')}=x`)).toBe(message);
    expect(refusal(`--${name}=x get pods`)).toBe(message);
    expect(refusal(`-n np-lab --${name} x get pods`)).toBe(message);
  });

  it('covers the flags the issue names', () => {
    for (const name of [
      'kubeconfig',
      'from-file',
      'from-env-file',
      'kustomize',
      'token',
      'server',
      'as',
      'context',
      'cluster',
      'user',
      'certificate-authority',
      'client-key',
      'client-certificate',
      'cache-dir',
      'log-file',
      'log-dir',
    ])
      expect(REFUSED_FLAGS[name], name).toBeDefined();
  });

  it('refuses the short forms -k and -s', () => {
    expect(refusal('apply -k dir/')).toBe(REFUSED_FLAGS.kustomize);
    expect(refusal('apply -kdir/')).toBe(REFUSED_FLAGS.kustomize);
    expect(refusal('-s https://other:6443 get pods')).toBe(REFUSED_FLAGS.server);
    expect(refusal('get pods -s https://other:6443')).toBe(REFUSED_FLAGS.server);
    expect(refusal('get pods -As=https://other')).toBe(REFUSED_FLAGS.server);
  });

  it('the refusals name the files or the other cluster', () => {
    expect(refusal('create configmap x --from-file=/etc/passwd')).toMatch(
      /files on the server.*--from-literal/,
    );
    expect(refusal('create secret generic x --from-env-file=/etc/environment')).toMatch(/--from-literal/);
    expect(refusal('get pods --kubeconfig /root/.kube/config')).toMatch(/your own cluster/);
    expect(refusal('create secret tls t --cert=/etc/ssl/a.pem --key=/etc/ssl/a.key')).toMatch(
      /certificate file/,
    );
    expect(refusal('create -f - --edit')).toMatch(/editor/);
    expect(refusal('patch deploy/backend --patch-file=/tmp/p.json')).toMatch(/file/);
  });
});

describe('-f/--filename takes only -', () => {
  it.each([
    'apply -f policy.yaml',
    'apply -f /etc/passwd',
    'apply -f https://example.com/x.yaml',
    'apply -fpolicy.yaml',
    'apply -f=policy.yaml',
    'apply --filename policy.yaml',
    'apply --filename=policy.yaml',
    'apply -Rf dir/',
    'create -f x.yaml',
    'delete -f x.yaml',
    'replace -f x.yaml',
    'auth reconcile -f rbac.yaml',
    'get -f x.yaml',
    'exec -f pod.yaml -- curl x',
    'apply -f - -f other.yaml',
  ])('%s is refused', (line) => {
    expect(refusal(line)).toMatch(/-f\/--filename takes only -/);
  });

  it.each([
    'apply -f -',
    'apply -f=-',
    'apply -f-',
    'apply --filename -',
    'apply --filename=-',
    'create -f -',
    'delete -f -',
    'replace -f -',
    'apply -Rf -',
  ])('%s runs', (line) => expect(verdict(line).ok).toBe(true));

  it('logs -f is --follow, not a file, and streams', () => {
    expect(verdict('logs -f deploy/backend')).toMatchObject({ ok: true, streams: true });
    expect(verdict('logs deploy/backend --follow')).toMatchObject({ ok: true, streams: true });
    expect(verdict('logs -pf deploy/backend')).toMatchObject({ ok: true, streams: true });
  });
});

describe('output formats that read files', () => {
  it.each([
    'get pods -o go-template-file=/etc/passwd',
    'get pods -o jsonpath-file=/etc/passwd',
    'get pods -o custom-columns-file=/etc/passwd',
    'get pods --output=jsonpath-file=/etc/passwd',
    'get pods -ojsonpath-file=/etc/passwd',
    'get pods --output go-template-file --template=/etc/passwd',
  ])('%s is refused', (line) => expect(refusal(line)).toMatch(/template file/));

  it('inline templates run', () => {
    expect(checkKubectl(['get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}']).ok).toBe(true);
    expect(verdict('get pods -o wide').ok).toBe(true);
    expect(verdict('get pods -oyaml').ok).toBe(true);
  });
});

describe('kubectl run attaching a terminal', () => {
  it.each([
    'run t --image=busybox -it -- sh',
    'run t --image=busybox -i',
    'run t --image=busybox --stdin',
    'run t --image=busybox --tty',
    'run t --image=busybox --attach',
    'run t --image=busybox --rm',
  ])('%s is refused', (line) => expect(refusal(line)).toMatch(/attaches a terminal/));
  it('a plain run works', () => expect(verdict('run t --image=busybox -- sleep 3600').ok).toBe(true));
});

describe('flags before the subcommand', () => {
  it('allows -n, --namespace, -v and --request-timeout', () => {
    for (const line of [
      '-n np-lab get pods',
      '-nnp-lab get pods',
      '--namespace np-lab get pods',
      '--namespace=np-lab get pods',
      '-v 6 get pods',
      '--request-timeout 5s get pods',
    ])
      expect(verdict(line), line).toMatchObject({ ok: true, subcommand: 'get' });
  });
  it('refuses any other flag there, so a value cannot be taken for the subcommand', () => {
    expect(refusal('--match-server-version=false cp a b')).toBe(REFUSED_SUBCOMMANDS.cp);
    expect(refusal('--unknown get cp a b')).toMatch(/put flags after the command/);
    expect(refusal('-A get pods')).toMatch(/put flags after the command/);
  });
  it('a namespace named like a subcommand is a namespace', () => {
    expect(verdict('-n cp get pods')).toMatchObject({ ok: true, subcommand: 'get' });
  });
});

describe('what runs', () => {
  it.each([
    'get pods,svc --show-labels',
    '-n np-lab get pods,svc --show-labels',
    '-n np-lab exec deploy/backend -- curl -sS --max-time 2 http://db1:1111',
    '-n np-lab exec deploy/backend -- nslookup db1',
    'get networkpolicy -n np-lab -o yaml',
    'describe networkpolicy np-backend -n np-lab',
    'delete networkpolicy np-backend -n np-lab',
    'auth can-i get pods',
    'api-resources',
    'version',
    'label pod x a=b',
    'rollout status deploy/backend -n np-lab',
    'get pods -l app=backend -A',
    'help',
    'get pods --help',
  ])('kubectl %s', (line) => expect(verdict(line).ok).toBe(true));

  it('flags after -- belong to the command in the pod', () => {
    expect(verdict('exec backend-0 -- curl -s -f -k http://x').ok).toBe(true);
    expect(verdict('exec backend-0 -- cat --kubeconfig').ok).toBe(true);
  });

  it('-w and --watch stream', () => {
    expect(verdict('get pods -w')).toMatchObject({ ok: true, streams: true });
    expect(verdict('get pods --watch')).toMatchObject({ ok: true, streams: true });
    expect(verdict('get pods -Aw')).toMatchObject({ ok: true, streams: true });
    expect(verdict('get pods --watch=false')).toMatchObject({ ok: true, streams: false });
    expect(verdict('get pods')).toMatchObject({ ok: true, streams: false });
  });
});

describe('interactive exec', () => {
  it('exec -it POD -- sh opens the page shell with the exec args minus -i/-t', () => {
    expect(interactiveExec(words('-n np-lab exec -it deploy/backend -- sh'))).toEqual({
      shell: { execArgs: words('-n np-lab exec deploy/backend'), target: 'deploy/backend' },
    });
    expect(interactiveExec(words('exec -i -t backend-0 -c main -n np-lab -- /bin/bash'))).toEqual({
      shell: { execArgs: words('exec backend-0 -c main -n np-lab'), target: 'backend-0' },
    });
    expect(interactiveExec(words('exec --stdin --tty -n np-lab backend-0 -- ash'))).toMatchObject({
      shell: { target: 'backend-0' },
    });
  });
  it('exec -it POD -- CMD runs CMD without a terminal', () => {
    expect(interactiveExec(words('exec -it backend-0 -- curl http://db1:1111'))).toEqual({
      plain: words('exec backend-0 -- curl http://db1:1111'),
    });
  });
  it('leaves other commands alone', () => {
    expect(interactiveExec(words('exec backend-0 -- sh'))).toBeUndefined();
    expect(interactiveExec(words('get pods -i'))).toBeUndefined();
  });
});
