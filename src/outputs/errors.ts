/**
 * The error a workload gets when a sealed input does not open.
 *
 * @module
 */
import { ConfideError, type ErrorCode } from '../core/errors.js'

/** Codes of `SealedInputError`. */
export type SealedInputErrorCode = Extract<ErrorCode, `ERR_OUTPUT_${string}`>

/**
 * A sealed input does not open: it was sealed to another workload's key
 * (`ERR_OUTPUT_RECIPIENT`), or it fails to decrypt because it was altered or sealed under another
 * label (`ERR_OUTPUT_DECRYPTION`).
 */
export class SealedInputError extends ConfideError {
  declare readonly code: SealedInputErrorCode
}
