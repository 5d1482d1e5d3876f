/**
 * Makes a progress database refuse every write from now on, the way a disk that turned read-only
 * does, through a second connection (file modes would not stop a test that runs as root).
 */
import Database from 'better-sqlite3';

export function refuseWrites(file: string): void {
  const db = new Database(file);
  for (const table of ['learners', 'progress', 'events', 'settings']) {
    for (const op of ['INSERT', 'UPDATE']) {
      db.exec(
        `CREATE TRIGGER refuse_${op.toLowerCase()}_${table} BEFORE ${op} ON ${table}
         BEGIN SELECT RAISE(ABORT, 'attempt to write a readonly database'); END;`,
      );
    }
  }
  db.close();
}
