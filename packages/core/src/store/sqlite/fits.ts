/**
 * @module The crash-safe fit swap: a fit and its suggestions replace the previous ones all at once, or
 * not at all, under a lock that lets one process save at a time and survives a saver that died. A fit
 * that changes few suggestions writes only those, in one transaction.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AutolabelError } from '../../errors.js';
import type { NewFit, NewSuggestion } from '../store.js';
import { abandoned, type LockRow, processSpace, seconds } from './locks.js';
import { bestEffort, write, type WriteTarget } from './transaction.js';

/** Suggestions written per transaction while a fit is saved. */
const SAVE_CHUNK = 2048;
/** Suggestions one INSERT of a save by table writes (7 parameters each, well under SQLite's 32,766). */
const ROWS_PER_INSERT = 64;

/**
 * A save that changes at most this many suggestions writes just those, in one transaction, instead
 * of a fresh table: a refit after a few labels touches a small share of a large pool.
 */
const IN_PLACE_LIMIT = 20_000;

/**
 * Fits of fewer suggestions always take the fresh table: it costs milliseconds there, and a pool that
 * small gains nothing from writing fewer rows.
 */
export const IN_PLACE_MIN_ROWS = 10_000;

/** A stored confidence within this of the new one counts as unchanged (three decimals agree). */
const CONFIDENCE_TOLERANCE = 5e-4;

/** A stored suggestion as `raw()` reads it: image_id, label, confidence, runner_up, runner_up_confidence, status. */
type StoredRow = [number, string, number, string | null, number | null, string];

function unchanged(row: StoredRow, s: NewSuggestion): boolean {
  const close = (a: number | null, b: number | null): boolean =>
    a === null || b === null ? a === b : Math.abs(a - b) <= CONFIDENCE_TOLERANCE;
  return (
    row[1] === s.label &&
    row[3] === s.runnerUp &&
    row[5] === s.status &&
    close(row[2], s.confidence) &&
    close(row[4], s.runnerUpConfidence)
  );
}

/** A suggestion row's values in column order; bound by position (named binding cost 1.4-1.7 CPU-s more per million rows). */
type SuggestionParams = [number, number, string, number, string | null, number | null, string];

function suggestionParams(s: NewSuggestion, fitId: number): SuggestionParams {
  return [s.imageId, fitId, s.label, s.confidence, s.runnerUp, s.runnerUpConfidence, s.status];
}

/** The name of the lock a save holds; one row of `locks`. */
const FIT_LOCK = 'fit-save';

export interface FitSaveSettings extends WriteTarget {
  /** How long a save waits for another process's save to finish before it gives up. */
  readonly lockWaitMs: number;
  /** A lock whose holder has not shown a sign of life for this long is taken over. */
  readonly lockStaleMs: number;
}

/** Saves fits for one connection (`Store.saveFit` and `Store.waitForFitLock`). */
export class FitSaves {
  readonly #target: FitSaveSettings;
  readonly #stmt;

  constructor(target: FitSaveSettings) {
    this.#target = target;
    const { db } = target;
    this.#stmt = {
      // Incomplete until its suggestions are in place (the column defaults to complete, for old rows).
      insertFit: db.prepare<[string, string, number, string, Buffer]>(
        'INSERT INTO fits (model_id, classes, labels, summary, head, complete) VALUES (?, ?, ?, ?, ?, 0)',
      ),
      dropIncompleteFits: db.prepare('DELETE FROM fits WHERE complete = 0'),
      completeFit: db.prepare<[number]>('UPDATE fits SET complete = 1 WHERE id = ?'),
      storedSuggestions: db
        .prepare(
          'SELECT image_id, label, confidence, runner_up, runner_up_confidence, status FROM suggestions ORDER BY image_id',
        )
        .raw(),
      upsertSuggestion: db.prepare<SuggestionParams>(
        `INSERT INTO suggestions (image_id, fit_id, label, confidence, runner_up, runner_up_confidence, status)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(image_id) DO UPDATE SET fit_id = excluded.fit_id, label = excluded.label,
           confidence = excluded.confidence, runner_up = excluded.runner_up,
           runner_up_confidence = excluded.runner_up_confidence, status = excluded.status`,
      ),
      deleteSuggestion: db.prepare<[number]>('DELETE FROM suggestions WHERE image_id = ?'),
      suggestionsTable: db.prepare<[], { sql: string }>(
        `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'suggestions'`,
      ),
      lock: db.prepare<[string], LockRow>('SELECT * FROM locks WHERE name = ?'),
      takeLock: db.prepare<[string, string, number, string, string, number, number]>(
        `INSERT OR REPLACE INTO locks (name, owner, pid, host, pid_namespace, taken_at, heartbeat_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      refreshLock: db.prepare<[number, string, string]>(
        'UPDATE locks SET heartbeat_at = ? WHERE name = ? AND owner = ?',
      ),
      releaseLock: db.prepare<[string, string]>('DELETE FROM locks WHERE name = ? AND owner = ?'),
    };
  }

  /**
   * Suggestions are written into a fresh table in small transactions, so label writes from other
   * connections wait milliseconds, not the whole save; one short transaction then swaps the tables
   * and marks the fit complete. The fit row stays incomplete until then, so a crash before the swap
   * leaves the previous fit and its suggestions in place. One process saves at a time, under the
   * fit-save lock (`#takeLock`), refreshed with every transaction of the save.
   */
  async save(fit: NewFit, suggestions: readonly NewSuggestion[]): Promise<number> {
    const owner = await this.#takeLock();
    try {
      return this.#saveInPlace(owner, fit, suggestions) ?? this.#saveByTable(owner, fit, suggestions);
    } finally {
      this.#releaseLock(owner);
    }
  }

  /**
   * One transaction: the fit, and only the suggestions that differ from the stored ones (`unchanged`);
   * those left as they are keep the fit that made them. Undefined, having written nothing, when more
   * than `IN_PLACE_LIMIT` changed, or the fit is smaller than `IN_PLACE_MIN_ROWS`: then a fresh table (`#saveByTable`) keeps label writes flowing.
   */
  #saveInPlace(owner: string, fit: NewFit, suggestions: readonly NewSuggestion[]): number | undefined {
    if (suggestions.length < IN_PLACE_MIN_ROWS) return undefined;
    const { db } = this.#target;
    return write(this.#target, 'save a fit', () => {
      this.#refreshLock(owner);
      const order = Int32Array.from(suggestions.keys()).sort(
        (a, b) => suggestions[a]!.imageId - suggestions[b]!.imageId,
      );
      const changed: NewSuggestion[] = [];
      const removed: number[] = [];
      // Both in image order: one merge pass over the stored rows.
      let k = 0;
      for (const row of this.#stmt.storedSuggestions.iterate() as Iterable<StoredRow>) {
        while (k < order.length && suggestions[order[k]!]!.imageId < row[0]) changed.push(suggestions[order[k++]!]!);
        const next = k < order.length ? suggestions[order[k]!]! : undefined;
        if (next?.imageId === row[0]) {
          if (!unchanged(row, next)) changed.push(next);
          k++;
        } else removed.push(row[0]);
        if (changed.length + removed.length > IN_PLACE_LIMIT) return undefined;
      }
      while (k < order.length) changed.push(suggestions[order[k++]!]!);
      if (changed.length + removed.length > IN_PLACE_LIMIT) return undefined;
      // Leftovers of a save that never finished: the lock says nobody is still on it.
      db.exec('DROP TABLE IF EXISTS suggestions_next; DROP TABLE IF EXISTS suggestions_old;');
      this.#stmt.dropIncompleteFits.run();
      const fitId = this.#insertFit(fit);
      for (const suggestion of changed) this.#stmt.upsertSuggestion.run(...suggestionParams(suggestion, fitId));
      for (const imageId of removed) this.#stmt.deleteSuggestion.run(imageId);
      this.#stmt.completeFit.run(fitId);
      return fitId;
    });
  }

  #insertFit(fit: NewFit): number {
    return Number(
      this.#stmt.insertFit.run(
        fit.modelId,
        JSON.stringify(fit.classes),
        fit.labels,
        JSON.stringify(fit.summary),
        Buffer.from(fit.head.buffer, fit.head.byteOffset, fit.head.byteLength),
      ).lastInsertRowid,
    );
  }

  #saveByTable(owner: string, fit: NewFit, suggestions: readonly NewSuggestion[]): number {
    const { db } = this.#target;
    let started = false;
    try {
      const fitId = write(this.#target, 'start saving a fit', () => {
        this.#refreshLock(owner);
        // Leftovers of a save that never finished: the lock says nobody is still on it.
        db.exec('DROP TABLE IF EXISTS suggestions_next; DROP TABLE IF EXISTS suggestions_old;');
        this.#stmt.dropIncompleteFits.run();
        const id = this.#insertFit(fit);
        // The same table as the current one (constraints included), from its own definition.
        const { sql } = this.#stmt.suggestionsTable.get()!;
        db.exec(sql.replace(/^CREATE TABLE\s+"?suggestions"?/i, 'CREATE TABLE suggestions_next'));
        return id;
      });
      started = true;
      // Prepared only now: the table they write did not exist before. Rows go in ROWS_PER_INSERT at
      // a time: 0.74 against 0.95-1.00 CPU-s a million rows one by one (in memory, side by side).
      const insertInto =
        'INSERT INTO suggestions_next (image_id, fit_id, label, confidence, runner_up, runner_up_confidence, status) VALUES ';
      const insertOne = db.prepare<SuggestionParams>(`${insertInto}(?, ?, ?, ?, ?, ?, ?)`);
      const insertMany = db.prepare<unknown[][]>(
        insertInto + Array.from({ length: ROWS_PER_INSERT }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', '),
      );
      const values: unknown[] = [];
      for (let start = 0; start < suggestions.length; start += SAVE_CHUNK) {
        write(this.#target, 'save suggestions', () => {
          this.#refreshLock(owner);
          const end = Math.min(suggestions.length, start + SAVE_CHUNK);
          let i = start;
          for (; i + ROWS_PER_INSERT <= end; i += ROWS_PER_INSERT) {
            values.length = 0;
            for (let r = i; r < i + ROWS_PER_INSERT; r++) values.push(...suggestionParams(suggestions[r]!, fitId));
            insertMany.run(values);
          }
          for (; i < end; i++) insertOne.run(...suggestionParams(suggestions[i]!, fitId));
        });
      }
      write(this.#target, 'finish saving a fit', () => {
        this.#refreshLock(owner);
        db.exec(`
          CREATE INDEX suggestions_confidence_${fitId} ON suggestions_next(confidence);
          CREATE INDEX suggestions_label_${fitId} ON suggestions_next(label);
          ALTER TABLE suggestions RENAME TO suggestions_old;
          ALTER TABLE suggestions_next RENAME TO suggestions;`);
        this.#stmt.completeFit.run(fitId);
      });
      started = false;
      // Saved: the old table is only space now, and the next save drops it if this fails.
      bestEffort(db, () => db.exec('DROP TABLE IF EXISTS suggestions_old'));
      return fitId;
    } catch (error) {
      if (started) {
        // Leave no half table behind when we can (on a full disk this may fail too; the next save cleans up).
        bestEffort(db, () => {
          this.#refreshLock(owner);
          db.exec('DROP TABLE IF EXISTS suggestions_next');
          this.#stmt.dropIncompleteFits.run();
        });
      }
      throw error;
    }
  }

  async waitForLock(): Promise<void> {
    this.#releaseLock(await this.#takeLock());
  }

  /**
   * Takes the fit-save lock: a row of `locks` with the owner's pid, host and a heartbeat, taken in an
   * immediate transaction. A lock whose owner is gone (same host and pid namespace, and the pid is no
   * longer running) or whose heartbeat is older than `lockStaleMs` is taken over; a live one is waited
   * for, polling, for up to `lockWaitMs`. Returns the owner token to refresh and release it with.
   */
  async #takeLock(): Promise<string> {
    const { file, lockWaitMs } = this.#target;
    const owner = randomBytes(8).toString('hex');
    const deadline = Date.now() + lockWaitMs;
    for (let pause = 20; ; pause = Math.min(2 * pause, 500)) {
      const holder = write(this.#target, 'take the lock for saving a fit', () => this.#tryTakeLock(owner), true);
      if (!holder) return owner;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new AutolabelError(
          'STORE_FAILED',
          `cannot save a fit in ${file}: another process (pid ${holder.pid} on ${holder.host}) has been saving one ` +
            `since ${new Date(holder.taken_at).toISOString()}, and still was after waiting ${seconds(lockWaitMs)}; ` +
            'try again once it is done',
        );
      }
      await sleep(Math.min(pause, left));
    }
  }

  /** In an immediate transaction: takes the lock, or returns its live holder. */
  #tryTakeLock(owner: string): LockRow | undefined {
    const now = Date.now();
    const row = this.#stmt.lock.get(FIT_LOCK);
    if (row && !this.#abandoned(row, now)) return row;
    const here = processSpace();
    this.#stmt.takeLock.run(FIT_LOCK, owner, process.pid, here.host, here.pidNamespace, now, now);
    return undefined;
  }

  #abandoned(row: LockRow, now: number): boolean {
    return abandoned(row, now, this.#target.lockStaleMs);
  }

  /** Inside a save's transaction: shows the lock is alive, and stops the save if it was taken over. */
  #refreshLock(owner: string): void {
    const changed = this.#stmt.refreshLock.run(Date.now(), FIT_LOCK, owner).changes;
    if (changed === 0) {
      throw new AutolabelError(
        'STORE_FAILED',
        `cannot save a fit in ${this.#target.file}: the save stalled for more than ` +
          `${seconds(this.#target.lockStaleMs)} and another process took over its lock; this fit was not saved`,
      );
    }
  }

  /** Never throws: a lock left behind is taken over once this process is gone or its heartbeat ages. */
  #releaseLock(owner: string): void {
    bestEffort(this.#target.db, () => this.#stmt.releaseLock.run(FIT_LOCK, owner));
  }
}
