/**
 * @module The review app's HTTP client: the one place that knows the API's paths and the error shape.
 * Types come from the server's contract, imported type-only. The access token, where the server has
 * one, rides in its HttpOnly cookie (set on the first page load), never in a URL or in this code.
 */
import type {
  AcceptResponse,
  AuditAction,
  AuditKind,
  AuditResolveResponse,
  AuditResponse,
  AuditRunState,
  ExportFormat as CoreExportFormat,
  ApiError as ApiErrorBody,
  BulkLabelsResponse,
  ClassesResponse,
  ErrorAction,
  ErrorHint,
  ImageItem,
  ImagesPage,
  ImagesQuery,
  LabelResult,
  MapClassesState,
  MapState,
  NextPick,
  NextResponse,
  QueueResponse,
  StatsResponse,
  UndoLabelsResponse,
  VerifyCheckResponse,
  VerifyResponse,
  VerifyStatus,
} from '@autolabel/core';
import { HTTP_LIMITS } from '@autolabel/core/http-limits';

/** The query as sent: ids go comma-separated. */
export type ImagesParams = Partial<Omit<ImagesQuery, 'ids'>> & { readonly ids?: string };
export type ExportFormat = CoreExportFormat;

/** Core's hints (what a person can do about an error), worded for someone in the review app. */
const HINTS: Readonly<Record<ErrorAction, string>> = {
  init: 'start the server from a workspace (autolabel init creates one)',
  scan: 'rescan the images folder (autolabel scan), then reload',
  embed: 'embed the images first (autolabel embed), then reload',
  label: 'label a few images of at least two classes in Label next or Grid',
  suggest: 'suggestions come once a few images of two classes are labelled',
  verify: 'verify a few random suggestions in Verify',
  'pull-model':
    'download the model where the model host can be reached (autolabel models pull), then restart the server',
};

/** An error's message with its hint worded for the app, as the views show it. */
export function describeApiError(message: string, hint: ErrorHint | undefined): string {
  return hint ? `${message}: ${HINTS[hint.action]}` : message;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: ErrorHint,
  ) {
    super(describeApiError(message, hint));
    this.name = 'ApiError';
  }
}

type Query = Readonly<Record<string, string | number | undefined>>;

export class Api {
  /** A URL for places that cannot send headers (img src, EventSource, downloads); the cookie goes with them. */
  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    return search ? `${path}?${search}` : path;
  }

  thumbnailUrl(imageId: number, size = 256): string {
    return this.url(`/api/images/${imageId}/thumbnail`, { size });
  }

  fileUrl(imageId: number): string {
    return this.url(`/api/images/${imageId}/file`);
  }

  exportUrl(format: ExportFormat): string {
    return this.url('/api/export', { format });
  }

  eventsUrl(): string {
    return this.url('/api/events');
  }

  stats(): Promise<StatsResponse> {
    return this.#request('GET', '/api/stats');
  }

  /** The embedding queue the server shows (`serve --queue`), or null without one. */
  queue(): Promise<QueueResponse> {
    return this.#request('GET', '/api/queue');
  }

  images(params: ImagesParams): Promise<ImagesPage> {
    return this.#request('GET', '/api/images', params);
  }

  /** The embedding map's state; 'computing' (HTTP 202) until the layout is done. */
  map(): Promise<MapState> {
    return this.#request('GET', '/api/map');
  }

  /**
   * What colours every point of the map, in one answer; null when `version` (the last answer's) is
   * still current, so an unchanged answer is not sent again.
   */
  mapClasses(version?: string): Promise<MapClassesState | null> {
    const headers: Record<string, string> = version === undefined ? {} : { 'if-none-match': `"${version}"` };
    return this.#request('GET', '/api/map/classes', {}, undefined, headers);
  }

  async next(count: number): Promise<readonly NextPick[]> {
    return (await this.#request<NextResponse>('GET', '/api/next', { count })).picks;
  }

  setLabel(imageId: number, label: string): Promise<LabelResult> {
    return this.#request('PUT', `/api/images/${imageId}/label`, {}, { label });
  }

  clearLabel(imageId: number): Promise<LabelResult> {
    return this.#request('DELETE', `/api/images/${imageId}/label`);
  }

  /**
   * Labels (or, with null, clears) many images, in requests as big as the server takes. Returns the
   * changes made (one per request; null where nothing changed), for `undoLabels`.
   */
  async setLabels(imageIds: readonly number[], label: string | null): Promise<(number | null)[]> {
    const step = HTTP_LIMITS.bulkLabels;
    const changeIds: (number | null)[] = [];
    for (let i = 0; i < imageIds.length; i += step) {
      const items = imageIds.slice(i, i + step).map((imageId) => ({ imageId, label }));
      changeIds.push((await this.#request<BulkLabelsResponse>('POST', '/api/labels', {}, { items })).changeId);
    }
    return changeIds;
  }

  /** Turns suggestions into labels; images without a suggestion, or with a label, are left alone. */
  async accept(imageIds: readonly number[]): Promise<number> {
    return (await this.acceptUndoable(imageIds)).accepted;
  }

  /** As `accept`, with the changes made (one per request; null where nothing was accepted), for `undoLabels`. */
  async acceptUndoable(imageIds: readonly number[]): Promise<{ accepted: number; changeIds: (number | null)[] }> {
    let accepted = 0;
    const changeIds: (number | null)[] = [];
    for (let i = 0; i < imageIds.length; i += HTTP_LIMITS.acceptIds) {
      const body = { imageIds: imageIds.slice(i, i + HTTP_LIMITS.acceptIds) };
      const answer = await this.#request<AcceptResponse>('POST', '/api/accept', {}, body);
      accepted += answer.accepted;
      changeIds.push(answer.changeId);
    }
    return { accepted, changeIds };
  }

  /** Undoes changes of labels (all or none): 409 when an image was changed again since. */
  undoLabels(changeIds: readonly number[]): Promise<UndoLabelsResponse> {
    return this.#request('POST', '/api/labels/undo', {}, { changeIds });
  }

  /** Accepts every suggestion that random checks certify (status auto). */
  acceptCertified(): Promise<AcceptResponse> {
    return this.#request('POST', '/api/accept', {}, { auto: true });
  }

  /** The next random check for this client (a browser tab); the same one until it is answered or skipped. */
  nextCheck(client: string): Promise<VerifyCheckResponse> {
    return this.#request('POST', '/api/verify/next', {}, { client });
  }

  /** Answers a check with the image's class: the suggestion confirmed, or a correction. */
  answerCheck(checkId: number, label: string): Promise<VerifyCheckResponse> {
    return this.#request('POST', `/api/verify/${checkId}/answer`, {}, { label });
  }

  async skipCheck(checkId: number): Promise<VerifyStatus> {
    return (await this.#request<VerifyResponse>('POST', `/api/verify/${checkId}/skip`, {}, {})).status;
  }

  async verifyStatus(): Promise<VerifyStatus> {
    return (await this.#request<VerifyResponse>('GET', '/api/verify')).status;
  }

  async addClass(name: string): Promise<ClassesResponse> {
    return this.#request('POST', '/api/classes', {}, { name });
  }

  /** The last audit's open findings (of one kind, most likely first) and the open counts of every kind. */
  audit(query: { readonly kind?: AuditKind; readonly limit?: number }): Promise<AuditResponse> {
    return this.#request('GET', '/api/audit', query);
  }

  /** Starts an audit in the background (or joins the one running); its progress comes as `audit` events. */
  runAudit(): Promise<AuditRunState> {
    return this.#request('POST', '/api/audit/run', {}, {});
  }

  auditRun(): Promise<AuditRunState> {
    return this.#request('GET', '/api/audit/run');
  }

  /** Decides about a finding: fine (`dismiss`), or `exclude` its images (`imageIds`: only these) from learning and export. */
  resolveFinding(id: string, action: AuditAction, imageIds?: readonly number[]): Promise<AuditResolveResponse> {
    return this.#request('POST', `/api/audit/findings/${encodeURIComponent(id)}`, {}, { action, imageIds });
  }

  /** The current rows of some images, by id (ids that are gone are missing from the result). */
  async findItems(imageIds: readonly number[]): Promise<Map<number, ImageItem>> {
    const found = new Map<number, ImageItem>();
    for (let i = 0; i < imageIds.length; i += HTTP_LIMITS.imageIds) {
      const ids = imageIds.slice(i, i + HTTP_LIMITS.imageIds);
      const page = await this.images({ ids: ids.join(','), offset: 0, limit: ids.length });
      for (const item of page.items) found.set(item.id, item);
    }
    return found;
  }

  /** JSON of the answer; null for 304 Not Modified (to a request that sent If-None-Match). */
  async #request<T>(
    method: string,
    path: string,
    query: Query = {},
    body?: unknown,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): Promise<T> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    const response = await fetch(search ? `${path}?${search}` : path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 304) return null as T;
    if (!response.ok) {
      const payload = (await response.json().catch(() => null)) as ApiErrorBody | null;
      throw new ApiError(
        response.status,
        payload?.error.code ?? 'HTTP_ERROR',
        payload?.error.message ?? `${method} ${path} answered ${response.status}`,
        payload?.error.hint,
      );
    }
    return (await response.json()) as T;
  }
}
