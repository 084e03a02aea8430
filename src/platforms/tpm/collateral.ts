/**
 * Collateral files a TPM quote needs beside itself. Nothing is fetched, because a TPM has no
 * vendor service: the caller supplies these files from the attester.
 *
 * @module
 */
import { PCR_COLLATERAL_FILES } from './pcrs.js'

/** Collateral file names, each list in the order the files are tried. */
export const TPM_COLLATERAL_FILES = {
  /** The TPMT_SIGNATURE of a bare TPMS_ATTEST (`tpm2_quote -s`). */
  signature: ['tpmt_signature.bin', 'quote.sig'],
  /** The AK certificate, DER or PEM, whose chain to `trustAnchors` makes the AK trusted. */
  akCertificate: ['ak_cert.der', 'ak_cert.pem', 'ak.crt'],
  /** Intermediate CA certificates of the AK certificate, PEM. */
  akChain: ['ak_chain.pem'],
  /** PCR values (see pcrs.ts for the forms). */
  pcrs: PCR_COLLATERAL_FILES,
} as const
