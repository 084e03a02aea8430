/**
 * Writes a collateral bundle as a directory that `loadCollateralDirectory` (and `--collateral`)
 * reads back. Node only.
 *
 * @module
 */
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, normalize, sep } from 'node:path'
import type { CollateralBundle } from '../core/collateral-bundle.js'
import { ConfigError } from '../core/errors.js'

/**
 * Writes every file of `bundle` under `dir`, creating folders as needed, and returns the paths
 * written. Each file is written beside its final name and then renamed over it, so a reader never
 * sees half a file and an interrupted run leaves the previous file in place.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` for a bundle path that would leave `dir`, or when a
 *   file cannot be written.
 */
export async function writeCollateralDirectory(
  dir: string,
  bundle: CollateralBundle,
): Promise<string[]> {
  const written: string[] = []
  for (const path of bundle.find(/(?:)/).sort()) {
    const relative = normalize(path)
    if (isAbsolute(relative) || relative === '..' || relative.startsWith(`..${sep}`)) {
      throw new ConfigError('ERR_CONFIG_INVALID', `bundle path ${path} leaves the directory`)
    }
    const bytes = bundle.get(path)
    if (bytes === undefined) continue
    const target = join(dir, relative)
    const temporary = `${target}.${process.pid}.tmp`
    try {
      await mkdir(dirname(target), { recursive: true })
      await writeFile(temporary, bytes)
      await rename(temporary, target)
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error)
      throw new ConfigError('ERR_CONFIG_INVALID', `cannot write ${target}: ${reason}`, {
        cause: error,
      })
    }
    written.push(relative)
  }
  return written
}
