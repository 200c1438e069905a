/**
 * @module Test helpers for the format tests: a scratch folder per test file (made before its tests,
 * removed after), files and folders written into it, and a source read through a format.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { LabelEntry, LabelFormat, ReadOptions, TreeSink } from '../formats/format.js';

/** A test file's temporary folder; every file or folder written gets a fresh name in it. */
export interface Scratch {
  /** The folder itself (made by the time tests run). */
  dir(): string;
  /** Writes `text` to a new file whose name ends with `name` (its extension kept); returns its path. */
  file(name: string, text: string): string;
  /** Writes `value` as indented JSON (a string as it is) to a new `.json` file; returns its path. */
  json(value: unknown): string;
  /** Writes a new folder holding `files` (relative paths; their folders are made); returns its path. */
  folder(files: Record<string, string>): string;
}

/** A scratch folder named after `prefix` in the system's temporary folder, for the tests of the calling file. */
export function scratchFolder(prefix: string): Scratch {
  let dir: string | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  let made = 0;
  const root = (): string => {
    if (dir === undefined) throw new Error('the scratch folder is made before the tests: use it inside them');
    return dir;
  };
  const file = (name: string, text: string): string => {
    const path = join(root(), `${made++}-${name}`);
    writeFileSync(path, text);
    return path;
  };
  return {
    dir: root,
    file,
    json: (value) => file('labels.json', typeof value === 'string' ? value : JSON.stringify(value, null, 2)),
    folder(files) {
      const folder = join(root(), String(made++));
      mkdirSync(folder);
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(dirname(join(folder, name)), { recursive: true });
        writeFileSync(join(folder, name), text);
      }
      return folder;
    },
  };
}

/** What a source read through a format gave: its entries (without `where`), their places, and the session's extras. */
export interface ReadResult {
  readonly entries: Omit<LabelEntry, 'where'>[];
  readonly wheres: string[];
  readonly classes: readonly string[];
  readonly notes: string[];
  readonly checklist: boolean;
}

/** Reads `source` with `format` to the end, collecting its entries and the notes it made. */
export async function readSource(
  format: Required<Pick<LabelFormat, 'read'>>,
  source: string,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const notes: string[] = [];
  const session = await format.read(source, { ...options, note: (text) => notes.push(text) });
  const entries: Omit<LabelEntry, 'where'>[] = [];
  const wheres: string[] = [];
  for await (const { where, ...entry } of session.entries) {
    entries.push(entry);
    wheres.push(where);
  }
  return { entries, wheres, classes: session.classes ?? [], notes, checklist: session.checklist === true };
}

/** A tree sink that keeps what a folder format writes: its texts (streamed ones gathered) and which image goes where. */
export function memoryTree(): TreeSink & { texts: Map<string, string>; images: Map<string, string> } {
  const texts = new Map<string, string>();
  const images = new Map<string, string>();
  return {
    texts,
    images,
    addFolder: async () => {},
    addImage: async (path, source) => void images.set(path, source),
    addText: async (path, text) => {
      let whole = '';
      if (typeof text === 'string') whole = text;
      else for await (const chunk of text) whole += chunk;
      texts.set(path, whole);
    },
  };
}
