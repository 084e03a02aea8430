/**
 * Reads a collateral directory from disk into a bundle. Node only.
 *
 * @module
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { CollateralBundle } from '../core/collateral-bundle.js'
import { ConfigError } from '../core/errors.js'

/** Largest file read from a collateral directory; real collateral files are a few KiB. */
const MAX_FILE_SIZE = 4 * 1024 * 1024
/** Most files read from one directory, subdirectories included. */
const MAX_FILES = 256

/**
 * Loads every file under `dir` (subdirectories included) as a collateral bundle keyed by relative
 * path.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` when `dir` is not a readable directory, contains a
 *   file larger than 4 MiB, or more than 256 files.
 */
export async function loadCollateralDirectory(dir: string): Promise<CollateralBundle> {
  const info = await stat(dir).catch(() => undefined)
  if (info === undefined || !info.isDirectory()) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `collateral directory ${dir} does not exist or is not a directory`,
    )
  }
  const files: [string, Uint8Array][] = []
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) {
        await walk(path)
        continue
      }
      if (!entry.isFile()) continue
      if (files.length >= MAX_FILES) {
        throw new ConfigError(
          'ERR_CONFIG_INVALID',
          `collateral directory ${dir} contains more than ${MAX_FILES} files`,
        )
      }
      const size = (await stat(path)).size
      if (size > MAX_FILE_SIZE) {
        throw new ConfigError(
          'ERR_CONFIG_INVALID',
          `collateral file ${path} is ${size} bytes, more than the ${MAX_FILE_SIZE} accepted`,
        )
      }
      files.push([relative(dir, path), new Uint8Array(await readFile(path))])
    }
  }
  await walk(dir)
  return new CollateralBundle(files)
}
