/**
 * @module The interface every label format implements (one module each, listed in registry.ts): it
 * recognises a source (`sniff`), streams its entries (`read`) and streams rows out (`writer`).
 */
import type { ImageId } from '../domain/index.js';
import type { ExportFilter, ExportRecord } from '../store/store.js';

/** An image as a file names it; the import matches it to a stored image (labels/find.ts). */
export interface ImageRef {
  /** As written: a path relative to the images folder or to the file, an absolute path, a URL, a name. */
  readonly path: string;
  /** A file on disk that is the image or a copy of it (folder formats): matched by where it leads, then by content. */
  readonly file?: string;
  /** The image's SHA-256, where the format records it. */
  readonly contentHash?: string;
}

/** One entry of a source: an image and the label(s) it is given there. */
export interface LabelEntry {
  /** Where the entry is, for messages: "labels.csv: line 4", "labels.json: images[3]", a file's path. */
  readonly where: string;
  readonly image: ImageRef;
  /** Class names as written (the import checks them); empty when the entry carries no label. */
  readonly labels: readonly string[];
  /** An accepted suggestion (status `accepted`): imported as one, with its confidence, so it never trains. */
  readonly accepted?: boolean;
  readonly confidence?: number | null;
  /** A person's label: how it was chosen where it came from ("chosen", "next: uncertain"). */
  readonly provenance?: string | null;
  /** A model's prediction for the image (read when `ReadOptions.predictions` asks): imported as a suggestion. */
  readonly prediction?: Prediction;
  /** What the entry held beyond Autolabel's fields (JSON, the format's own shape): kept, written back by its export. */
  readonly extras?: string;
}

/** A model's guess where it came from (a Label Studio prediction): a suggestion, never a label. */
export interface Prediction {
  readonly label: string;
  /** The model's score, from 0 to 1. */
  readonly confidence: number;
  /** The best other class the source predicts for the image, and its score. */
  readonly runnerUp: string | null;
  readonly runnerUpConfidence: number | null;
  /** The model version the source names. */
  readonly model: string | null;
}

export interface ReadOptions {
  /** The column that names the image, for formats with columns (case-insensitive). */
  readonly imageColumn?: string;
  /** The column that holds the label. */
  readonly labelColumn?: string;
  /** Formats that carry a model's predictions (label-studio): read them too, as suggestions. */
  readonly predictions?: boolean;
}

export interface ReadContext extends ReadOptions {
  /** Something a person should know that is no error ("columns owner, notes are not used"). */
  note(text: string): void;
}

/** A source opened for reading: its header is checked, its entries are read as they are iterated. */
export interface ReadSession {
  readonly entries: AsyncIterable<LabelEntry>;
  /** Classes the source declares, with or without images (a JSON class list, empty class folders). */
  readonly classes?: readonly string[];
  /** A verify checklist: its answers must be existing classes (a typo must not become a class). */
  readonly checklist?: boolean;
  /** Image paths written relative to this folder are tried too (a file's own folder). */
  readonly baseDir?: string;
  /** What the file held beyond its entries and Autolabel's fields (JSON), once the entries are read: kept as the entries' extras are. */
  readonly extras?: string;
}

/** What `sniff` looks at, gathered once for every format. */
export interface SniffInput {
  readonly path: string;
  readonly isDirectory: boolean;
  /** A file's first bytes as text (up to 64 KiB); '' for a folder. */
  readonly head: string;
  /** A folder's entries (hidden ones left out); empty for a file. */
  readonly entries: readonly { readonly name: string; readonly isDirectory: boolean }[];
}

/** How sure a format is that a source is its own: 0 not, 1 by its name or shape, 2 by its content. */
export type SniffScore = 0 | 1 | 2;

export interface WriteContext {
  /** Absolute; exported images are linked to or copied from here. */
  readonly imagesRoot: string;
  /** Every class of the workspace, sorted. */
  readonly classes: readonly string[];
  /** Fractions for train, val (and test), for formats that split; undefined: the format's default. */
  readonly split: readonly number[] | undefined;
  readonly seed: number;
  /**
   * The duplicate group of an image (by path), whose members a split keeps on one side (the audit's
   * near-duplicates, so a copy never tests what its original trained); undefined: no group.
   */
  readonly groupOf?: (path: string) => string | undefined;
  /** Called as rows are written, for progress. */
  advance(rows: number): void;
  /** What imports in this format kept (see `LabelEntry.extras`): for these images, and the file's under null. */
  importExtras?(imageIds: readonly (ImageId | null)[]): Promise<Map<ImageId | null, string>>;
}

/** The rows an export takes, in path order; each call reads them again, so a writer may make two passes. */
export type ExportRows = () => AsyncIterable<ExportRecord>;

/** A format written as one text file (CSV, JSON, ...): chunks of text, produced as rows are read. */
export interface FileWriter {
  readonly kind: 'file';
  readonly mediaType: string;
  readonly extension: string;
  chunks(rows: AsyncIterable<ExportRecord>, ctx: WriteContext): AsyncIterable<string>;
}

/** Where a folder format puts its files: a folder on disk (links or copies) or an archive being streamed. */
export interface TreeSink {
  addFolder(path: string): Promise<void>;
  /** Puts the image file `source` (absolute) at `path` (relative, '/'-separated). */
  addImage(path: string, source: string): Promise<void>;
  /**
   * Writes a text file at `path` (relative, '/'-separated): a small one (a class index) as a string,
   * a long one (a list with a line per image) as chunks, written as they come.
   */
  addText(path: string, text: string | AsyncIterable<string>): Promise<void>;
}

export interface TreeWriteResult {
  /** Images placed. */
  readonly images: number;
  /** Rows left out because they have no class (unlabelled images). */
  readonly withoutClass: number;
  /** Images per split (train, val, test), for formats that split. */
  readonly splits?: Readonly<Record<string, number>>;
  readonly warnings: readonly string[];
}

/** A format written as a tree of folders and image files (ImageFolder, YOLO classification). */
export interface TreeWriter {
  readonly kind: 'tree';
  write(rows: ExportRows, tree: TreeSink, ctx: WriteContext): Promise<TreeWriteResult>;
}

export interface LabelFormat {
  /** The `--format` name. */
  readonly name: string;
  /** One line for help and the README. */
  readonly description: string;
  /** What an export then import of this format keeps, and what it cannot carry. */
  readonly roundTrip: string;
  /** What an export takes when no filter is given (every image when undefined). */
  readonly defaultFilter?: ExportFilter;
  sniff(input: SniffInput): SniffScore;
  /** Opens `source` (absolute) for reading; absent for formats that are written only. */
  read?(source: string, ctx: ReadContext): Promise<ReadSession>;
  /** Absent for formats that are read only. */
  readonly writer?: FileWriter | TreeWriter;
}

/** A format with its literal name and the directions it has kept in its type (the registry derives names from them). */
export function defineFormat<const F extends LabelFormat>(format: F): F {
  return format;
}
