import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp } from '../../server/web/app.js';
import { domainOf } from '../../server/web/catalogue-order.js';
import { createDefaultWebDeps } from '../../server/web/wiring.js';
import { fakeLab } from './fakes.js';

describe('the catalogue order', () => {
  it('names the exam domain from the competency', () => {
    expect(domainOf({ ...fakeLab(), competency: 'CKA Services & Networking: define policies.' })).toBe(
      'CKA Services & Networking',
    );
  });

  it('the real catalogue opens with np-backend, the first lab of the course, and shows its domain', async () => {
    const deps = await createDefaultWebDeps({ mode: 'simulated', dbPath: ':memory:', simulatedWorkers: 0 });
    try {
      const app = createApp(deps);
      const api = await request(app).get('/api/labs').expect(200);
      const ids = (api.body.labs as Array<{ id: string }>).map((l) => l.id);
      expect(ids[0]).toBe('np-backend');
      // The NetworkPolicy path ends with np-default-deny-all; the Pod Security section follows.
      expect(ids.indexOf('np-default-deny-all')).toBeLessThan(ids.indexOf('psa-restricted'));
      expect(ids.indexOf('np-default-deny-all')).toBeLessThan(ids.indexOf('rbac-ci-deployer'));
      expect(ids.indexOf('rbac-ci-deployer')).toBeLessThan(ids.indexOf('rbac-support-logs'));
      expect(ids.indexOf('rbac-support-logs')).toBeLessThan(ids.indexOf('rbac-edit-no-secrets'));
      expect(ids.indexOf('psa-restricted')).toBeLessThan(ids.indexOf('psa-baseline-warn'));
      expect(ids.indexOf('psa-baseline-warn')).toBeLessThan(ids.indexOf('psa-privileged-pod'));
      expect(api.body.labs[0].domain).toBe('CKA Services & Networking');
      const page = await request(app).get('/').expect(200);
      expect(page.text.indexOf('/labs/np-backend')).toBeLessThan(page.text.indexOf('/labs/np-and-vs-or'));
      expect(page.text).toContain('<p class="domain">CKA Services &amp; Networking</p>');
    } finally {
      await deps.close();
    }
  });
});
