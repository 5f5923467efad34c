/** Lists over cursor pages: iterate the items with `for await`, or the pages with `.pages()`. */

import type { Query, Transport } from "./transport.js";

interface Page<T> {
  results: T[];
  next?: string | null;
}

export class Paginator<T> implements AsyncIterable<T> {
  readonly #transport: Transport;
  readonly #path: string;
  readonly #query: Query;

  constructor(transport: Transport, path: string, query: Query = {}) {
    this.#transport = transport;
    this.#path = path;
    this.#query = query;
  }

  /** Each page's items, fetching the next page only when the previous one is used up. */
  async *pages(): AsyncGenerator<T[]> {
    let cursor: string | null = null;
    do {
      const query: Query = cursor === null ? this.#query : { ...this.#query, cursor };
      const page = await this.#transport.json<Page<T> | T[]>("GET", this.#path, { query });
      if (Array.isArray(page)) {
        yield page; // an unpaginated list: one page
        return;
      }
      yield page.results;
      // Only the cursor is taken from `next`: its host is the server's idea of itself, which
      // behind a proxy need not be the base URL this client was given.
      cursor = page.next ? new URL(page.next).searchParams.get("cursor") : null;
    } while (cursor !== null);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const page of this.pages()) yield* page;
  }

  /** Every item of every page, in one array. */
  async toArray(): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this) items.push(item);
    return items;
  }
}
