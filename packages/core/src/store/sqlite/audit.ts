/**
 * @module The SQLite Store's audit tables: perceptual hashes by content, the latest findings with their
 * dismissals, and excluded images. Writes run inside the caller's write transaction.
 */
import type Database from 'better-sqlite3';
import type { AuditKind, ImageId } from '../../domain/index.js';
import type { AuditFindingRecord, AuditRunRecord, NewAuditFinding, PerceptualHashRecord } from '../store.js';

interface FindingRow {
  id: string;
  kind: AuditKind;
  score: number;
  image_ids: string;
  detail: string;
  dismissed: number;
}

/** Content hashes looked up per statement (SQLite's default limit of bound parameters is 32766). */
const LOOKUP_CHUNK = 500;

export class AuditTables {
  readonly #db: Database.Database;
  readonly #stmt;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = {
      putHash: db.prepare<[string, string]>(
        'INSERT INTO perceptual_hashes (content_hash, phash) VALUES (?, ?) ON CONFLICT DO UPDATE SET phash = excluded.phash',
      ),
      insertRun: db.prepare<[string, string]>('INSERT INTO audit_runs (kinds, notes) VALUES (?, ?)'),
      pruneRuns: db.prepare('DELETE FROM audit_runs WHERE id < (SELECT max(id) FROM audit_runs)'),
      latestRun: db.prepare<[], { kinds: string; notes: string; created_at: string }>(
        'SELECT kinds, notes, created_at FROM audit_runs ORDER BY id DESC LIMIT 1',
      ),
      deleteKind: db.prepare<[string]>('DELETE FROM audit_findings WHERE kind = ?'),
      insertFinding: db.prepare<[string, string, number, string, string]>(
        `INSERT INTO audit_findings (id, kind, score, image_ids, detail) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, score = excluded.score,
           image_ids = excluded.image_ids, detail = excluded.detail`,
      ),
      findings: db.prepare<[], FindingRow>(
        `SELECT f.*, d.finding_id IS NOT NULL AS dismissed FROM audit_findings f
         LEFT JOIN audit_dismissals d ON d.finding_id = f.id ORDER BY f.score DESC, f.id`,
      ),
      dismiss: db.prepare<[string]>('INSERT OR IGNORE INTO audit_dismissals (finding_id) VALUES (?)'),
      exclude: db.prepare<[number]>(
        'INSERT OR IGNORE INTO excluded_images (image_id) SELECT id FROM images WHERE id = ?',
      ),
      include: db.prepare<[number]>('DELETE FROM excluded_images WHERE image_id = ?'),
      excluded: db.prepare<[], { image_id: number }>('SELECT image_id FROM excluded_images ORDER BY image_id'),
    };
  }

  getHashes(contentHashes: readonly string[]): PerceptualHashRecord[] {
    const out: PerceptualHashRecord[] = [];
    for (let start = 0; start < contentHashes.length; start += LOOKUP_CHUNK) {
      const chunk = contentHashes.slice(start, start + LOOKUP_CHUNK);
      const rows = this.#db
        .prepare<string[], { content_hash: string; phash: string }>(
          `SELECT content_hash, phash FROM perceptual_hashes WHERE content_hash IN (${chunk.map(() => '?').join(',')})`,
        )
        .all(...chunk);
      for (const row of rows) out.push({ contentHash: row.content_hash, hash: row.phash });
    }
    return out;
  }

  putHashes(hashes: readonly PerceptualHashRecord[]): void {
    for (const h of hashes) this.#stmt.putHash.run(h.contentHash, h.hash);
  }

  save(
    run: { readonly kinds: readonly AuditKind[]; readonly notes: readonly string[] },
    findings: readonly NewAuditFinding[],
  ): void {
    for (const kind of run.kinds) this.#stmt.deleteKind.run(kind);
    for (const f of findings) {
      this.#stmt.insertFinding.run(f.id, f.kind, f.score, JSON.stringify(f.imageIds), JSON.stringify(f.detail));
    }
    this.#stmt.insertRun.run(JSON.stringify(run.kinds), JSON.stringify(run.notes));
    this.#stmt.pruneRuns.run();
  }

  findings(): AuditFindingRecord[] {
    return this.#stmt.findings.all().map((row) => ({
      id: row.id,
      kind: row.kind,
      score: row.score,
      imageIds: JSON.parse(row.image_ids) as ImageId[],
      detail: JSON.parse(row.detail) as Record<string, unknown>,
      dismissed: row.dismissed === 1,
    }));
  }

  latestRun(): AuditRunRecord | undefined {
    const row = this.#stmt.latestRun.get();
    if (!row) return undefined;
    return {
      kinds: JSON.parse(row.kinds) as AuditKind[],
      notes: JSON.parse(row.notes) as string[],
      createdAt: row.created_at,
    };
  }

  dismiss(ids: readonly string[]): void {
    for (const id of ids) this.#stmt.dismiss.run(id);
  }

  setExcluded(imageIds: readonly ImageId[], excluded: boolean): void {
    for (const id of imageIds) (excluded ? this.#stmt.exclude : this.#stmt.include).run(id);
  }

  excluded(): ImageId[] {
    return this.#stmt.excluded.all().map((row) => row.image_id as ImageId);
  }
}
