/**
 * Dotted paths into normalized claims, such as `measurement`, `raw.rtmr0` or `raw.pcrs.4`.
 *
 * @module
 */
import type { Claims, ClaimValue } from '../core/types.js'

/** Syntax of a claim path: names of letters, digits, `_` and `-`, joined by dots. */
export const CLAIM_PATH_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$'

/**
 * Returns the claim a path names, or undefined when any step is missing. A numeric step indexes
 * an array; any other step names an object field.
 */
export function claimAt(claims: Claims, path: string): ClaimValue | undefined {
  let value: ClaimValue | undefined = claims as unknown as ClaimValue
  for (const step of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    if (Array.isArray(value)) {
      const list = value as readonly ClaimValue[]
      value = /^\d+$/.test(step) ? list[Number(step)] : undefined
      continue
    }
    const record = value as { readonly [key: string]: ClaimValue }
    value = Object.hasOwn(record, step) ? record[step] : undefined
  }

  return value
}

const HEX_TEXT = /^[0-9a-fA-F]+$/

/**
 * Returns a claim or reference value as the text the two are compared by: hex digits in lower
 * case, integers in decimal, other text unchanged. Other values have no text form.
 */
export function comparableText(value: ClaimValue | undefined): string | undefined {
  if (typeof value === 'string') return HEX_TEXT.test(value) ? value.toLowerCase() : value
  if (typeof value === 'number' && Number.isInteger(value)) return String(value)

  return undefined
}
