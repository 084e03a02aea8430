/**
 * Checking the base URLs of collateral services given on the command line or in the environment.
 *
 * @module
 */
import { ConfigError } from '../core/errors.js'

/**
 * Checks that a service base URL is an absolute http or https URL, and returns it without a
 * trailing slash.
 *
 * @throws ConfigError `ERR_CONFIG_INVALID` naming `option`.
 */
export function serviceUrl(text: string, option: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new ConfigError('ERR_CONFIG_INVALID', `${option} ${text} is not an absolute URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('ERR_CONFIG_INVALID', `${option} ${text} is not an http or https URL`)
  }
  return text.replace(/\/+$/, '')
}
