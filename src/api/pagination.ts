import type { Page } from '../store/pagination.ts';
import type { RouteContext } from './route.ts';

/** The Seam `pagination` object for a page. */
export function paginationOf(page: Page<unknown>, ctx: Pick<RouteContext, 'routeUrl'>) {
  const cursor = page.nextCursor;
  return {
    has_next_page: cursor !== null,
    next_page_cursor: cursor,
    next_page_url: cursor === null ? null : `${ctx.routeUrl}?page_cursor=${encodeURIComponent(cursor)}`,
  };
}
