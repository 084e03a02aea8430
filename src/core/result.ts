/**
 * Collects checks as a verification runs and turns them into a verdict.
 *
 * @module
 */
import type { ErrorCode } from './errors.js'
import type { Check, Verdict } from './types.js'

/** An ordered list of checks with helpers to add each outcome. */
export class CheckList {
  readonly #checks: Check[] = []

  pass(name: string, detail: string): void {
    this.#checks.push({ name, status: 'pass', detail })
  }

  fail(name: string, code: ErrorCode, detail: string): void {
    this.#checks.push({ name, status: 'fail', detail, code })
  }

  skip(name: string, detail: string): void {
    this.#checks.push({ name, status: 'skipped', detail })
  }

  /** Tells whether a check with this name has failed. */
  failed(name?: string): boolean {
    return this.#checks.some((c) => c.status === 'fail' && (name === undefined || c.name === name))
  }

  get checks(): readonly Check[] {
    return this.#checks
  }

  /** Derives the verdict: any failure is invalid, any skip without failure is indeterminate. */
  verdict(): Verdict {
    if (this.#checks.some((c) => c.status === 'fail')) return 'invalid'
    if (this.#checks.some((c) => c.status === 'skipped')) return 'indeterminate'
    return 'valid'
  }
}
