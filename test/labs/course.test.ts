import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COURSE_FILE, orderLabs, readCoursePath } from '../../server/labs/course.js';
import type { Lab } from '../../server/labs/model.js';
import { fakeLab } from '../web/fakes.js';

const lab = (id: string, difficulty: Lab['difficulty'], minutes: number): Lab => ({
  ...fakeLab(id),
  difficulty,
  minutes,
});

describe('the course order', () => {
  it('follows the course path, then the unlisted labs easiest first', () => {
    const labs = [
      lab('z-hard', 'advanced', 10),
      lab('a-medium', 'intermediate', 30),
      lab('first', 'intermediate', 25),
      lab('b-easy-long', 'beginner', 40),
      lab('c-easy-short', 'beginner', 10),
    ];
    expect(orderLabs(labs, ['first', 'not-a-lab']).map((l) => l.id)).toEqual([
      'first',
      'c-easy-short',
      'b-easy-long',
      'a-medium',
      'z-hard',
    ]);
  });

  it('reads the path of course.yaml, and no path from a missing or broken file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubelab-course-'));
    try {
      expect(await readCoursePath(dir)).toEqual([]);
      await writeFile(join(dir, COURSE_FILE), 'path:\n  - b\n  - a\n  - 7\n');
      expect(await readCoursePath(dir)).toEqual(['b', 'a']);
      await writeFile(join(dir, COURSE_FILE), 'path: [unclosed\n');
      expect(await readCoursePath(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
