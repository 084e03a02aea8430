/**
 * When to retry a failed request and how long to wait first.
 *
 * @module
 */

/** Statuses worth retrying: request timeout, throttling, and server errors but 501. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501)
}

/**
 * Tells whether a transport failure with this system error code is worth retrying. Refused,
 * reset and cut-short connections and failed lookups (EAI_AGAIN) may pass. A host name that does
 * not resolve (ENOTFOUND) will not.
 */
export function isRetryableTransportError(code: string | undefined): boolean {
  return code !== 'ENOTFOUND'
}

/**
 * Returns the wait a Retry-After header requests, in milliseconds: delay-seconds or an HTTP date
 * (RFC 9110, section 10.2.3). Returns undefined for a missing or unreadable value. A date in the
 * past gives 0.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // An HTTP date names its day and month, so text without letters ("-5") is no date.
  const date = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(date)) return undefined

  return Math.max(0, date - now.getTime())
}

/**
 * Returns the exponential backoff before retry number `retry` (1 for the first): `base`, doubled
 * each time, plus up to a quarter more at random so that many clients do not retry in step,
 * capped at `max`.
 */
export function backoffDelay(retry: number, base: number, max: number, random = Math.random) {
  const exponential = base * 2 ** (retry - 1)
  return Math.min(max, Math.round(exponential * (1 + random() / 4)))
}
