/**
 * Access to the shared corpus of real evidence and the interop artifacts, which live beside the
 * repository (../shared) and are never copied into it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CollateralBundle } from '../../src/core/collateral-bundle.js'

const here = dirname(fileURLToPath(import.meta.url))

/** Root of the repository (tests run from dist/test/...). */
export const repositoryRoot = resolve(here, '..', '..', '..')

/** The shared folder: CONFIDE_SHARED, or ../shared beside the repository. */
export const sharedRoot = process.env.CONFIDE_SHARED ?? resolve(repositoryRoot, '..', 'shared')

export const corpusRoot = join(sharedRoot, 'corpus')
export const interopRoot = join(sharedRoot, 'interop')

/** One case folder of the corpus with its parsed expect.json. */
export interface CorpusCase {
  readonly name: string
  readonly platform: string
  readonly dir: string
  readonly expect: Record<string, unknown> & {
    readonly verification_time: string | null
    readonly expected: Record<string, unknown> & { readonly verdict: string }
    readonly claims?: Record<string, unknown>
  }
}

/** Lists the cases of one corpus platform folder, such as `intel-tdx`. */
export function corpusCases(platform: string): CorpusCase[] {
  const root = join(corpusRoot, platform)
  return readdirSync(root)
    .filter((name) => statSync(join(root, name)).isDirectory())
    .sort()
    .map((name) => ({
      name,
      platform,
      dir: join(root, name),
      expect: JSON.parse(readFileSync(join(root, name, 'expect.json'), 'utf8')),
    }))
}

/** Reads a file of a case folder. */
export function readCaseFile(testCase: CorpusCase, path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(testCase.dir, path)))
}

/** Loads every file under a folder into a collateral bundle keyed by relative path. */
export function bundleFromDir(dir: string): CollateralBundle {
  const files: [string, Uint8Array][] = []
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name)
      if (statSync(path).isDirectory()) walk(path)
      else files.push([relative(dir, path), new Uint8Array(readFileSync(path))])
    }
  }
  walk(dir)
  return new CollateralBundle(files)
}
