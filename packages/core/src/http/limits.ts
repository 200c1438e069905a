/**
 * @module The HTTP API's size limits, in one place: the schemas enforce them, and the web app (which
 * imports this module's values through `@autolabel/core/http-limits`, no more of core) splits its
 * requests by them. Imports nothing, so it is safe in the browser.
 */
export const HTTP_LIMITS = {
  /** Items in one POST /api/labels. */
  bulkLabels: 10_000,
  /** Image ids in one POST /api/accept. */
  acceptIds: 100_000,
  /** Ids in one GET /api/images?ids=. */
  imageIds: 1000,
  /** Images in one page of GET /api/images. */
  pageSize: 1000,
  /** Picks in one GET /api/next. */
  nextPicks: 500,
} as const;
