/**
 * The types the rest of the product sees: web integrations, list queries and the
 * {@link WebIntegrationsApi} interface the engine depends on (a fake implements it in unit tests).
 */
import type { z } from 'zod';
import type { webIntegrationSchema } from './schemas.js';

/** A web integration as Qlik returns it. */
export type WebIntegration = z.infer<typeof webIntegrationSchema>;

export type ListSort = 'name' | '+name' | '-name';

export interface ListQuery {
  /** Page size, 0..100 (Qlik's default is 10; `list()` asks for 100 unless told). */
  limit?: number;
  sort?: ListSort;
  startingAfter?: string;
  endingBefore?: string;
  tenantId?: string;
}

/** One page of the list, with the `href`s of its neighbours (absolute URLs, as Qlik sent them). */
export interface WebIntegrationPage {
  data: WebIntegration[];
  links: { self?: string; next?: string; prev?: string };
}

/** Either a query for the first page or the `href` of a page (`links.next` / `links.prev`). */
export type ListPageRequest = ListQuery | { href: string };

export interface CreateWebIntegrationInput {
  name: string;
  validOrigins?: readonly string[];
}

/** One JSON-Patch-like operation Qlik accepts: only `replace` of `/name` or `/validOrigins`. */
export type WebIntegrationPatchOperation =
  | { op: 'replace'; path: '/name'; value: string }
  | { op: 'replace'; path: '/validOrigins'; value: readonly string[] };

export interface CallOptions {
  /** Cancels the call, including its retries, back-off and rate-limit waits. */
  signal?: AbortSignal;
}

/** What the product needs from Qlik's web-integrations API. */
export interface WebIntegrationsApi {
  /** Every integration matching the query, following `links.next` page by page. */
  list(query?: ListQuery, opts?: CallOptions): AsyncIterable<WebIntegration>;
  /** One page and its links. */
  listPage(request?: ListPageRequest, opts?: CallOptions): Promise<WebIntegrationPage>;
  get(id: string, opts?: CallOptions): Promise<WebIntegration>;
  create(input: CreateWebIntegrationInput, opts?: CallOptions): Promise<WebIntegration>;
  update(
    id: string,
    operations: readonly WebIntegrationPatchOperation[],
    opts?: CallOptions,
  ): Promise<void>;
  delete(id: string, opts?: CallOptions): Promise<void>;
  /** Replaces the whole `validOrigins` list (Qlik has no add/remove of single origins). */
  replaceOrigins(id: string, origins: readonly string[], opts?: CallOptions): Promise<void>;
}
