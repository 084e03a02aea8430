/**
 * Collateral planning for DCAP quotes (SGX and TDX). A quote needs from Intel PCS the TCB info of
 * its FMSPC, the identity of its Quoting Enclave, the CRL of the CA that issued its PCK
 * certificate, and the Root CA CRL. The FMSPC and the CA come from the PCK certificate in the
 * quote.
 *
 * @module
 */
import { decodePem, toHex } from '../core/bytes.js'
import type { CollateralBundle } from '../core/collateral-bundle.js'
import { ParseError } from '../core/errors.js'
import { parseCertificate } from '../pki/certificate.js'
import { COLLATERAL_FILES, collateralFromBundle } from '../platforms/dcap/collateral.js'
import { parsePckExtensions } from '../platforms/dcap/pck-extensions.js'
import { type DcapQuote, parseQuote } from '../platforms/dcap/quote.js'
import { type IntelTee, type PckCa, pckCaOf } from './pcs.js'
import { type CollateralPlanner, type PlannedItem, unavailableItem } from './plan.js'

/** Bundle file names of the PCK CRL and its chain, as `confide collateral fetch` writes them. */
export const PCK_CRL_FILES = { crl: 'pck_crl.der', issuerChain: 'pck_crl_issuer_chain.pem' }

/** The FMSPC and issuing CA of a quote's PCK certificate, or why they are unknown. */
type PckFacts = { readonly fmspc: Uint8Array; readonly ca: PckCa } | { readonly problem: string }

function readPck(quote: DcapQuote): PckFacts {
  try {
    const text = new TextDecoder().decode(quote.pckChainPem)
    const leaf = decodePem(text).find((block) => block.label === 'CERTIFICATE')
    if (leaf === undefined) return { problem: 'the quote carries no PCK certificate' }
    const certificate = parseCertificate(leaf.der)
    const ca = pckCaOf(certificate.issuer)
    if (ca === undefined) {
      return { problem: `the PCK certificate's issuer "${certificate.issuer}" is no PCK CA` }
    }
    return { fmspc: parsePckExtensions(certificate).fmspc, ca }
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    return { problem: `the PCK certificate cannot be read: ${error.message}` }
  }
}

function tcbInfoItem(tee: IntelTee, pck: PckFacts): PlannedItem {
  const name = `${tee.toUpperCase()} TCB info`
  if ('problem' in pck) return unavailableItem(`intel/tcb-info/${tee}`, name, pck.problem)
  const fmspc = toHex(pck.fmspc)
  return {
    key: `intel/tcb-info/${tee}/${fmspc}`,
    label: `${name} for FMSPC ${fmspc}`,
    optional: false,
    async fetch({ pcs }) {
      const document = await pcs.tcbInfo(tee, pck.fmspc)
      return { ...document, freshUntil: document.nextUpdate }
    },
    files: ({ body, issuerChain }) => [
      [COLLATERAL_FILES.tcbInfo, body],
      ...(issuerChain === undefined
        ? []
        : [[COLLATERAL_FILES.tcbInfoIssuerChain, issuerChain] as [string, Uint8Array]]),
    ],
  }
}

function qeIdentityItem(tee: IntelTee): PlannedItem {
  return {
    key: `intel/qe-identity/${tee}`,
    label: tee === 'tdx' ? 'TD QE identity' : 'QE identity',
    optional: false,
    async fetch({ pcs }) {
      const document = await pcs.qeIdentity(tee)
      return { ...document, freshUntil: document.nextUpdate }
    },
    files: ({ body, issuerChain }) => [
      [COLLATERAL_FILES.qeIdentity, body],
      ...(issuerChain === undefined
        ? []
        : [[COLLATERAL_FILES.qeIdentityIssuerChain, issuerChain] as [string, Uint8Array]]),
    ],
  }
}

function pckCrlItem(pck: PckFacts): PlannedItem {
  if ('problem' in pck) return unavailableItem('intel/pck-crl', 'PCK CRL', pck.problem)
  const { ca } = pck
  return {
    key: `intel/pck-crl/${ca}`,
    label: `PCK ${ca === 'processor' ? 'Processor' : 'Platform'} CA CRL`,
    optional: false,
    async fetch({ pcs }) {
      const crl = await pcs.pckCrl(ca)
      return {
        url: crl.url,
        body: crl.der,
        ...(crl.issuerChain === undefined ? {} : { issuerChain: crl.issuerChain }),
        ...(crl.crl.nextUpdate === undefined ? {} : { freshUntil: crl.crl.nextUpdate }),
      }
    },
    files: ({ body, issuerChain }) => [
      [PCK_CRL_FILES.crl, body],
      ...(issuerChain === undefined
        ? []
        : [[PCK_CRL_FILES.issuerChain, issuerChain] as [string, Uint8Array]]),
    ],
  }
}

function rootCaCrlItem(): PlannedItem {
  return {
    key: 'intel/root-ca-crl',
    label: 'Intel SGX Root CA CRL',
    optional: false,
    async fetch({ pcs }) {
      const crl = await pcs.rootCaCrl()
      return {
        url: crl.url,
        body: crl.der,
        ...(crl.crl.nextUpdate === undefined ? {} : { freshUntil: crl.crl.nextUpdate }),
      }
    },
    files: ({ body }) => [[COLLATERAL_FILES.rootCaCrl, body]],
  }
}

/**
 * Lists the PCS items a quote needs that `have` lacks. An item counts as present when its
 * document and its issuer chain are both there.
 *
 * @throws ParseError when the quote cannot be decoded.
 */
export function planDcapCollateral(bytes: Uint8Array, have: CollateralBundle): PlannedItem[] {
  const quote = parseQuote(bytes)
  const tee: IntelTee = quote.header.teeType === 'TDX' ? 'tdx' : 'sgx'
  const present = collateralFromBundle(have)
  const pck = readPck(quote)
  const items: PlannedItem[] = []
  if (present.tcbInfo === undefined || present.tcbInfoIssuerChain === undefined) {
    items.push(tcbInfoItem(tee, pck))
  }
  if (present.qeIdentity === undefined || present.qeIdentityIssuerChain === undefined) {
    items.push(qeIdentityItem(tee))
  }
  if (present.pckCrls.length === 0) items.push(pckCrlItem(pck))
  if (present.rootCaCrl === undefined) items.push(rootCaCrlItem())

  return items
}

/** Creates the planner of SGX and TDX quotes. */
export function dcapPlanner(): CollateralPlanner {
  return { platforms: ['sgx', 'tdx'], plan: planDcapCollateral }
}
