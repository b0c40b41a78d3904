/**
 * The row a table returns for a domain type: the same fields, named in snake_case, so each
 * store writes its row shape once (the domain type) and maps names in one function.
 *
 * @example
 * type TaskRow = RowOf<Task>; // { id: string; created_at: Date; state_since: Date; ... }
 */

/** `objectionEndsAt` → `objection_ends_at`. */
export type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

/** A domain object as its table's row: every key in snake_case, values unchanged. */
export type RowOf<T> = { [K in keyof T & string as SnakeCase<K>]: T[K] };
