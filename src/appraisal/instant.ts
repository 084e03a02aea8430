/**
 * Strict reading of the ISO-8601 times that reference values carry.
 *
 * @module
 */

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/

/**
 * Returns the instant a date and time with a zone names (`2026-01-13T00:00:00Z`), or undefined
 * for text in another form or a day or time that does not exist (February 30, hour 24), which
 * `Date.parse` would quietly roll over.
 */
export function parseInstant(text: string): Date | undefined {
  const match = INSTANT.exec(text)
  if (match === null) return undefined
  const [, year, month, day, hour, minute, second] = match.map(Number)
  const calendar = new Date(Date.UTC(year ?? 0, (month ?? 0) - 1, day ?? 0))
  if (calendar.getUTCMonth() !== (month ?? 0) - 1 || calendar.getUTCDate() !== day) return undefined
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return undefined
  const instant = new Date(text)

  return Number.isNaN(instant.getTime()) ? undefined : instant
}
