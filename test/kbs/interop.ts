/** Reads the Trustee KBS interop files under ../shared/interop/kbs. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repositoryRoot } from '../helpers/corpus.js'

export const KBS_INTEROP = join(repositoryRoot, '..', 'shared', 'interop', 'kbs')

/** Returns the text of one interop file. */
export function interopText(folder: string, file: string): string {
  return readFileSync(join(KBS_INTEROP, folder, file), 'utf8')
}

/** Returns one interop file read as JSON. */
export function interopJson(folder: string, file: string): unknown {
  return JSON.parse(interopText(folder, file))
}
