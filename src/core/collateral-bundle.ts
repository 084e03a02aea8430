/**
 * Collateral handed to a verification as named files, in the layout of a collateral directory
 * (`tcb_info.json`, `pck_crl.der`, `certs/vcek.der`, ...). Platforms look files up by name, so
 * the same bundle can come from a directory, an archive or memory.
 *
 * @module
 */

/** A read-only set of collateral files keyed by their path relative to the bundle root. */
export class CollateralBundle {
  readonly #files: ReadonlyMap<string, Uint8Array>

  /** Copies the files, so later changes to the caller's arrays cannot reach the bundle. */
  constructor(files: Iterable<readonly [string, Uint8Array]>) {
    this.#files = new Map([...files].map(([path, bytes]) => [path, bytes.slice()] as const))
  }

  /** Returns the file at `path`, or else the only file whose base name is `path`. */
  get(path: string): Uint8Array | undefined {
    const exact = this.#files.get(path)
    if (exact !== undefined) return exact
    const matches = [...this.#files.keys()].filter((key) => key.endsWith(`/${path}`))
    return matches.length === 1 ? this.#files.get(matches[0]!) : undefined
  }

  /** Returns the file at `path` decoded as UTF-8 text. */
  text(path: string): string | undefined {
    const bytes = this.get(path)
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes)
  }

  /** Lists the paths whose base name matches `pattern`. */
  find(pattern: RegExp): string[] {
    return [...this.#files.keys()].filter((key) => pattern.test(key.replace(/^.*\//, '')))
  }

  /** Returns a new bundle with these files added, replacing files of the same path. */
  with(files: Iterable<readonly [string, Uint8Array]>): CollateralBundle {
    return new CollateralBundle([...this.#files, ...files])
  }

  get size(): number {
    return this.#files.size
  }
}
