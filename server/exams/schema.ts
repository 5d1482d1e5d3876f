/**
 * The zod schema of exams/<id>/exam.yaml. Strict like the lab schema (a typo is an error, with a
 * suggestion), so every problem comes back as `file:line: field.path: message`.
 */
import { z } from 'zod';
import { ID_PATTERN, strictObject } from '../labs/schema.js';

const id = z
  .string({ error: 'must be an id' })
  .regex(ID_PATTERN, 'must use only lowercase letters, digits and dashes, starting with a letter or digit');
const text = z.string({ error: 'must be text' }).trim().min(1, 'must not be empty');
const points = z
  .number({ error: 'must be a whole number of points' })
  .int('must be a whole number of points')
  .min(1, 'must be at least 1 point')
  .max(100, 'must be at most 100 points');

const taskSchema = strictObject({
  lab: id,
  points: points.optional(),
  checks: z
    .record(id, points, { error: 'must map check ids to points, e.g. {egress-exactly: 3}' })
    .optional(),
}).superRefine((t, ctx) => {
  if (t.points === undefined && t.checks === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['points'],
      message: 'is required: give the task points (all or nothing) or checks (points per check)',
    });
  if (t.points !== undefined && t.checks !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['checks'],
      message: 'cannot be combined with points: choose points (all or nothing) or checks (points per check)',
    });
  if (t.checks !== undefined && Object.keys(t.checks).length === 0)
    ctx.addIssue({ code: 'custom', path: ['checks'], message: 'must name at least one check' });
});

export const examFileSchema = strictObject({
  id,
  title: text,
  description: text,
  style: text,
  minutes: z
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(1, 'must be at least 1 minute')
    .max(600, 'must be at most 600 minutes'),
  passPercent: z
    .number({ error: 'must be a percentage' })
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100'),
  checkPerTask: z.boolean({ error: 'must be true or false' }),
  tasks: z.array(taskSchema, { error: 'must be a list of tasks' }).min(1, 'must list at least one task'),
});

export type ExamFile = z.infer<typeof examFileSchema>;
