/** Where kubectl is not installed, the pane says how to get it and the rest of the lab page works. */
import { describe, expect, it } from 'vitest';
import { startServer } from '../../server/cli/serve.js';
import { INSTALL_KUBECTL } from '../../server/web/terminal.js';

describe('the terminal pane without kubectl', () => {
  it('says how to get kubectl when it is not installed, and the page still works', async () => {
    const bare = await startServer({
      host: '127.0.0.1',
      port: 0,
      dbPath: ':memory:',
      mode: 'simulated',
      simulatedWorkers: 0,
      env: { PATH: '' },
    });
    try {
      const html = await (await fetch(`${bare.url}labs/np-backend`)).text();
      expect(html).toContain('data-state="no-kubectl"');
      expect(html).toContain(INSTALL_KUBECTL.slice(0, 60));
      expect(html).not.toContain('/static/terminal.js');
      expect(html).toContain('id="check-form"');
    } finally {
      await bare.close();
    }
  });
});
