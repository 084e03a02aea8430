/**
 * Parsing of the CLI's time arguments.
 *
 * @module
 */
import { ConfigError } from '../core/errors.js'

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/

/**
 * Parses an ISO-8601 date (`2026-01-13`, read as midnight UTC) or date and time with a zone
 * (`2026-01-13T00:00:00Z`, `...+02:00`). Dates that do not exist, such as February 30, and times
 * without a zone, which would depend on the machine's zone, are rejected.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID`
 */
export function parseTime(text: string, option = '--at'): Date {
  const fail = (reason: string) =>
    new ConfigError(
      'ERR_CONFIG_INVALID',
      `${option} ${text} ${reason}; use a time such as 2026-01-13T00:00:00Z`,
    )
  const match = ISO_TIME.exec(text)
  if (match === null) throw fail('is not an ISO-8601 date, or a date and time with a zone')
  const [, year, month, day, hour = '0', minute = '0', second = '0'] = match
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)))
  if (calendar.getUTCMonth() !== Number(month) - 1 || calendar.getUTCDate() !== Number(day)) {
    throw fail('names a day that does not exist')
  }
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59)
    throw fail('names a time that does not exist')
  const at = new Date(text)
  if (Number.isNaN(at.getTime())) throw fail('is not a valid time')
  return at
}
