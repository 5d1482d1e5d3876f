/** An exam shows a lab's task without its title and without the practice-only "Check your work". */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { examTaskMarkdown } from '../../server/exams/task-text.js';

describe('examTaskMarkdown', () => {
  it('drops the title and the Check your work section, keeping what follows it', () => {
    const md =
      '# Lock it down\n\nIntro.\n\n## Your task\n\nDo it.\n\n## Check your work\n\nPress Check.\n### Detail\nmore\n\n## Afterwards\n\nKept.\n';
    const out = examTaskMarkdown(md);
    expect(out).not.toMatch(/Lock it down|Press Check|more/);
    expect(out).toMatch(/Intro\./);
    expect(out).toMatch(/## Your task\n\nDo it\./);
    expect(out).toMatch(/## Afterwards\n\nKept\./);
  });

  it('leaves np-backend without any mention of kubelab lab check', async () => {
    const md = await readFile(new URL('../../labs/np-backend/task.md', import.meta.url), 'utf8');
    expect(md).toMatch(/kubelab lab check/);
    expect(examTaskMarkdown(md)).not.toMatch(/kubelab lab check/);
  });
});
