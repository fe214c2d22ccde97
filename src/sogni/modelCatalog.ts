/** How long the model list is reused before asking Sogni again. */
export const MODEL_CACHE_MS = 5 * 60_000;
/** Autocomplete must answer within Discord's 3 s; a slow catalogue falls back to what we have. */
const FETCH_BUDGET_MS = 2000;

/**
 * Model ids from GET /v1/models for /ask's autocomplete, cached for a few minutes. A
 * failed refresh keeps serving the last good list (or just the default model).
 */
export class ModelCatalog {
  readonly #fetchIds: (signal: AbortSignal) => Promise<string[]>;
  readonly #defaultModel: string;
  #ids: string[] = [];
  #fetchedAt = -Infinity;
  #inflight: Promise<string[]> | undefined;

  constructor(fetchIds: (signal: AbortSignal) => Promise<string[]>, defaultModel: string) {
    this.#fetchIds = fetchIds;
    this.#defaultModel = defaultModel;
  }

  async list(): Promise<string[]> {
    if (Date.now() - this.#fetchedAt < MODEL_CACHE_MS) return this.#withDefault();
    this.#inflight ??= this.#fetchIds(AbortSignal.timeout(FETCH_BUDGET_MS))
      .then((ids) => {
        this.#ids = [...new Set(ids)].sort();
        this.#fetchedAt = Date.now();
        return ids;
      })
      .finally(() => (this.#inflight = undefined));
    try {
      await this.#inflight;
    } catch {
      // Keep the last good list; try again on the next call.
    }
    return this.#withDefault();
  }

  /** Up to 25 ids (Discord's autocomplete limit) matching what the user typed, best first. */
  async suggest(typed: string): Promise<string[]> {
    const query = typed.trim().toLowerCase();
    const ids = await this.list();
    const starts = ids.filter((id) => id.toLowerCase().startsWith(query));
    const contains = ids.filter((id) => !id.toLowerCase().startsWith(query) && id.toLowerCase().includes(query));
    return [...starts, ...contains].slice(0, 25);
  }

  #withDefault(): string[] {
    return this.#ids.includes(this.#defaultModel) ? this.#ids : [this.#defaultModel, ...this.#ids];
  }
}
