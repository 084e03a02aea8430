/**
 * The error every collateral client throws when an item cannot be obtained. It is a
 * CollateralError with code `ERR_COLLATERAL_UNAVAILABLE`, so a verification that lacks the item
 * reports "could not be judged", never "invalid".
 *
 * @module
 */
import { CollateralError } from '../core/errors.js'

/**
 * Why an item could not be obtained:
 * - `status`: the server responded with a status other than 2xx (see `status`);
 * - `timeout`: no complete response within the time limit;
 * - `network`: the connection failed or broke off, including bodies cut short;
 * - `throttled`: the server asked to wait (HTTP 429) longer than allowed, or kept asking;
 * - `too-large`: the body exceeds the size limit;
 * - `malformed`: the body is not what the URL serves, such as JSON that is not TCB info;
 * - `offline`: the network is off and the cache has no usable copy;
 * - `unfetchable`: no service serves the item, such as the VLEK of a cloud provider.
 */
export type FetchFailureReason =
  | 'status'
  | 'timeout'
  | 'network'
  | 'throttled'
  | 'too-large'
  | 'malformed'
  | 'offline'
  | 'unfetchable'

/** Location and reason of a failed fetch of one collateral item. */
export interface FetchFailure {
  readonly reason: FetchFailureReason
  /** The URL that failed, when a request was made or would have been. */
  readonly url?: string
  /** HTTP status of the last response, when one arrived. */
  readonly status?: number
  /** Requests made, retries included. */
  readonly attempts?: number
}

/** Collateral could not be fetched. The message names the URL and the reason. */
export class CollateralFetchError extends CollateralError {
  readonly reason: FetchFailureReason
  readonly url: string | undefined
  readonly status: number | undefined
  readonly attempts: number

  constructor(message: string, failure: FetchFailure, options?: { cause?: unknown }) {
    super('ERR_COLLATERAL_UNAVAILABLE', message, options)
    this.reason = failure.reason
    this.url = failure.url
    this.status = failure.status
    this.attempts = failure.attempts ?? 0
  }
}
