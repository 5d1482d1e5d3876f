/** What an exam is once its exam.yaml has been read and checked against the lab catalogue. */
import type { Lab, Scenario } from '../labs/model.js';

export interface ExamTask {
  /** The lab this task is (its task text, checks and explanations). */
  lab: string;
  /**
   * `task`: the points go to a task whose lab passes as a whole (nothing in between).
   * `check`: each listed check earns its points when it passes; the lab's `unchanged` checks and
   * the scenario's integrity are conditions (when one fails the task earns nothing); the lab's
   * other checks are shown but count for nothing.
   */
  scoring: 'task' | 'check';
  /** Points of the whole task (the sum of `checks` for per-check scoring). */
  points: number;
  /** Per-check scoring: check id -> points, in the lab's check order. */
  checks: Array<{ id: string; points: number }>;
}

export interface Exam {
  id: string;
  title: string;
  description: string;
  /** e.g. CKA, CKS: shown next to the title. */
  style: string;
  minutes: number;
  /** Percentage of the total points needed to pass. */
  passPercent: number;
  /** Whether the learner may grade a single task while the clock runs. */
  checkPerTask: boolean;
  tasks: ExamTask[];
  totalPoints: number;
  dir: string;
  file: string;
}

/** An exam with its labs and scenarios loaded: what grading and deploying need. */
export interface LoadedExam {
  exam: Exam;
  labs: Map<string, Lab>;
  scenarios: Map<string, Scenario>;
}
