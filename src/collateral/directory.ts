/**
 * Reads a collateral directory from disk into a bundle. Node only.
 *
 * @module
 */
import { readdir, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { CollateralBundle } from '../core/collateral-bundle.js'
import { ConfigError } from '../core/errors.js'
import { readBoundedFile } from './read-file.js'

/** Largest file read from a collateral directory; real collateral files are a few KiB. */
const MAX_FILE_SIZE = 4 * 1024 * 1024
/** Largest total read from one directory. */
const MAX_TOTAL_SIZE = 16 * 1024 * 1024
/** Most files read from one directory, subdirectories included. */
const MAX_FILES = 256
/** Deepest subdirectory read. */
const MAX_DEPTH = 4

/**
 * Loads every regular file under `dir` as a collateral bundle keyed by relative path.
 * Subdirectories are read up to four levels deep. Symbolic links to files are followed; links to
 * directories are not, so a link loop cannot make the walk endless.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when `dir` is not a readable directory, or contains more
 *   than 256 files, a file larger than 4 MiB, or more than 16 MiB in all.
 */
export async function loadCollateralDirectory(dir: string): Promise<CollateralBundle> {
  const fail = (message: string) => new ConfigError('ERR_CONFIG_INVALID', message)
  const info = await stat(dir).catch(() => undefined)
  if (info === undefined || !info.isDirectory()) {
    throw fail(`collateral directory ${dir} does not exist or is not a directory`)
  }
  const files: [string, Uint8Array][] = []
  let total = 0
  const walk = async (folder: string, depth: number): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) {
        if (depth < MAX_DEPTH) await walk(path, depth + 1)
        continue
      }
      const target = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry
      if (target === undefined || !target.isFile()) continue
      if (files.length >= MAX_FILES) {
        throw fail(`collateral directory ${dir} contains more than ${MAX_FILES} files`)
      }
      const bytes = await readBoundedFile(path, 'collateral file', MAX_FILE_SIZE)
      total += bytes.length
      if (total > MAX_TOTAL_SIZE) {
        throw fail(`collateral directory ${dir} contains more than ${MAX_TOTAL_SIZE} bytes`)
      }
      files.push([relative(dir, path), bytes])
    }
  }
  await walk(dir, 0)
  return new CollateralBundle(files)
}
