/**
 * The location of the store: a SQLite file in the user's data folder unless configured otherwise. Kept apart
 * from `open.ts` so that finding the location loads no database driver.
 *
 * @module
 */
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'

/** Location of an in-memory SQLite store, which lasts as long as the process. */
export const MEMORY_STORE = ':memory:'

/**
 * Returns the default store file: `$XDG_DATA_HOME/confide/confide.db`, or
 * `~/.local/share/confide/confide.db` when XDG_DATA_HOME is unset or not an absolute path (the
 * XDG Base Directory rule).
 */
export function defaultStoreLocation(env: NodeJS.ProcessEnv = process.env): string {
  const dataHome = env.XDG_DATA_HOME
  const base =
    dataHome !== undefined && isAbsolute(dataHome) ? dataHome : join(homedir(), '.local', 'share')
  return join(base, 'confide', 'confide.db')
}

/** Picks the store location: the given one, else `CONFIDE_STORE`, else the default file. */
export function storeLocation(given?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = given ?? env.CONFIDE_STORE
  return chosen === undefined || chosen === '' ? defaultStoreLocation(env) : chosen
}

/** Tells whether a location names a file (as opposed to memory or a database URL). */
export function isStoreFile(location: string): boolean {
  return location !== MEMORY_STORE && !/^[a-z][a-z0-9+.-]*:\/\//i.test(location)
}
