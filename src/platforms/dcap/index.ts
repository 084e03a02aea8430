/**
 * Intel DCAP: quotes from SGX enclaves and TDX trust domains, shared by the `sgx` and `tdx`
 * platforms.
 *
 * @module
 */
import { ParseError } from '../../core/errors.js'
import type { Platform } from '../../core/platform.js'
import { type DcapQuote, looksLikeQuote, parseQuote, type TeeType } from './quote.js'
import { verifyQuote } from './verify.js'

function dcapPlatform(name: string, title: string, teeType: TeeType): Platform<DcapQuote> {
  return {
    name,
    title,
    sniff: (bytes) => looksLikeQuote(bytes, teeType),
    expectations: ['expectedReportData'],
    parse: (bytes) => {
      const quote = parseQuote(bytes)
      if (quote.header.teeType !== teeType) {
        const message = `the quote is an ${quote.header.teeType} quote, not ${title} evidence`
        throw new ParseError('ERR_PARSE_UNSUPPORTED_TEE_TYPE', message, {
          structure: 'QuoteHeader',
          field: 'TEE_TYPE',
          offset: 4,
        })
      }
      return quote
    },
    verify: (quote, context) => verifyQuote(name, quote, context),
  }
}

/** Creates the Intel SGX platform: DCAP quotes of SGX enclaves (v3, v4, v5). */
export function sgxPlatform(): Platform<DcapQuote> {
  return dcapPlatform('sgx', 'Intel SGX', 'SGX')
}

/** Creates the Intel TDX platform: DCAP quotes of TDX trust domains (v4, v5; TD 1.0 and 1.5). */
export function tdxPlatform(): Platform<DcapQuote> {
  return dcapPlatform('tdx', 'Intel TDX', 'TDX')
}

export type { DcapCollateral, ParsedCollateral } from './collateral.js'
export { collateralFromBundle, decodeIssuerChainHeader } from './collateral.js'
export type { PckExtensions } from './pck-extensions.js'
export { parsePckExtensions } from './pck-extensions.js'
export type { QeIdentity, SignedQeIdentity } from './qe-identity.js'
export { parseQeIdentity } from './qe-identity.js'
export type { DcapQuote, QuoteHeader, SgxReportBody, TdReportBody } from './quote.js'
export { parseQuote } from './quote.js'
export type { SignedTcbInfo, TcbInfo, TcbLevel } from './tcb-info.js'
export { parseTcbInfo } from './tcb-info.js'
export { verifyQuote } from './verify.js'
