// What a batch changed on its target side, collected as results come in (events, commands, logs).
import type { Changed } from './events.js';

export type ChangeKind = 'file' | 'dir' | 'deleted';

/** Paths listed in a `batch` event at most (the counts stay exact). */
const MAX_LISTED = 1000;

export class ChangeSet {
  readonly files: string[] = [];
  readonly dirs: string[] = [];
  readonly deleted: string[] = [];

  add(p: string, kind: ChangeKind): void {
    (kind === 'file' ? this.files : kind === 'dir' ? this.dirs : this.deleted).push(p);
  }

  addAll(other: ChangeSet): void {
    this.files.push(...other.files);
    this.dirs.push(...other.dirs);
    this.deleted.push(...other.deleted);
  }

  get size(): number {
    return this.files.length + this.dirs.length + this.deleted.length;
  }

  changed(): Changed {
    return { files: [...this.files], dirs: [...this.dirs], deleted: [...this.deleted] };
  }

  /** Up to MAX_LISTED paths, for per-file logs. */
  listed(): string[] {
    return [...this.files, ...this.dirs, ...this.deleted].slice(0, MAX_LISTED);
  }
}
