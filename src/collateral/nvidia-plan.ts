/**
 * Collateral planning for NVIDIA GPU reports: the driver and VBIOS RIMs from NVIDIA's RIM service,
 * and the OCSP responses about the device chain and the RIM signing chains. Each RIM is kept in
 * the bundle as `<RIM ID>.swidtag`, and each response as `ocsp_<serial>.der`, which the `nvidia`
 * platform reads. OCSP items are planned once the RIMs are in the bundle, in the next round.
 *
 * @module
 */
import { decodePem, fromBase64, toHex } from '../core/bytes.js'
import type { CollateralBundle } from '../core/collateral-bundle.js'
import { ParseError } from '../core/errors.js'
import { createNodeCrypto, digestSync } from '../crypto/node.js'
import { type Certificate, parseCertificate } from '../pki/certificate.js'
import {
  driverRimId,
  NVIDIA_CHAIN_FILES,
  NVIDIA_RIM_FILE_PATTERN,
  vbiosRimId,
} from '../platforms/nvidia/collateral.js'
import { parseNvidiaReport } from '../platforms/nvidia/format.js'
import { parseOcspResponse } from '../platforms/nvidia/ocsp.js'
import { ocspFileName } from '../platforms/nvidia/ocsp-bundle.js'
import { createCertId, encodeOcspRequest } from '../platforms/nvidia/ocsp-request.js'
import { type NvidiaRim, parseNvidiaRim } from '../platforms/nvidia/rim.js'
import { CollateralFetchError } from './fetch-error.js'
import type { HttpResponse } from './http.js'
import type { CollateralPlanner, CollateralSources, PlannedItem } from './plan.js'

/**
 * How long a fetched RIM is served from the cache: 30 days, a chosen figure. NOTE: whether NVIDIA
 * ever serves a changed RIM under the same ID is unconfirmed.
 */
const RIM_FRESHNESS_MS = 30 * 24 * 60 * 60 * 1000

/** Index of the first device certificate whose status is fetched. The leaf is made at boot. */
const FIRST_DEVICE_CERTIFICATE_CHECKED = 1

/** Returns the NVIDIA service URLs. Sources built without them reach no NVIDIA service. */
function nvidiaUrls(sources: CollateralSources): { rimUrl: string; ocspUrl: string } {
  if (sources.nvidia === undefined) {
    const detail = 'the NVIDIA RIM service and OCSP responder URLs are missing from the sources'
    throw new CollateralFetchError(detail, { reason: 'unfetchable' })
  }
  return sources.nvidia
}

function rimBase(sources: CollateralSources): string {
  const base = nvidiaUrls(sources).rimUrl
  return base.endsWith('/') ? base : `${base}/`
}

function malformed(response: HttpResponse, problem: string, error: unknown): CollateralFetchError {
  const reason = error instanceof Error ? error.message : String(error)
  return new CollateralFetchError(`${response.url} returned ${problem}: ${reason}`, {
    reason: 'malformed',
    url: response.url,
    status: response.status,
  })
}

/** Reads the RIM service's JSON, `{"id": ..., "rim": "<base64 of the XML>"}`, into the RIM bytes. */
function rimFromJson(response: HttpResponse): Uint8Array {
  let rim: Uint8Array
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(response.body))
    const text = typeof json === 'object' && json !== null && 'rim' in json ? json.rim : undefined
    if (typeof text !== 'string') throw new Error('the JSON has no "rim" string')
    rim = fromBase64(text)
    parseNvidiaRim(rim)
  } catch (error) {
    throw malformed(response, 'no readable RIM', error)
  }
  return rim
}

function rimItem(id: string): PlannedItem {
  return {
    key: `nvidia/rim/${id}`,
    label: `NVIDIA RIM ${id}`,
    optional: false,
    async fetch(sources) {
      const response = await sources.http.get(
        `${rimBase(sources)}${encodeURIComponent(id)}`,
        'application/json',
      )
      const body = rimFromJson(response)
      return { url: response.url, body, freshUntil: new Date(Date.now() + RIM_FRESHNESS_MS) }
    },
    files: ({ body }) => [[`${id}.swidtag`, body]],
  }
}

/** One certificate whose status is fetched, and its issuer. */
interface OcspTarget {
  readonly certificate: Certificate
  readonly issuer: Certificate
}

function ocspItem({ certificate, issuer }: OcspTarget): PlannedItem {
  const issuerKey = toHex(digestSync('SHA-256', issuer.spki)).slice(0, 32)
  const serial = certificate.serialNumber
  return {
    key: `nvidia/ocsp/${issuerKey}/${serial}`,
    label: `OCSP status of "${certificate.commonName}"`,
    // The OCSP checks are skipped without a response.
    optional: true,
    async fetch(sources) {
      const crypto = createNodeCrypto()
      const certId = await createCertId(certificate, issuer, crypto, 'SHA-384')
      // No nonce: the response is kept and reused until its nextUpdate.
      const response = await sources.http.send({
        url: nvidiaUrls(sources).ocspUrl,
        method: 'POST',
        body: encodeOcspRequest(certId),
        contentType: 'application/ocsp-request',
        accept: 'application/ocsp-response',
      })
      let nextUpdate: Date | undefined
      try {
        const decoded = parseOcspResponse(response.body)
        if (decoded.basic === undefined) {
          throw new Error(`the responder status is ${decoded.status}`)
        }
        const single = decoded.basic.responses.find((entry) => entry.certId.serialNumber === serial)
        if (single === undefined) throw new Error(`the response has no status for ${serial}`)
        nextUpdate = single.nextUpdate
      } catch (error) {
        throw malformed(response, 'no usable OCSP response', error)
      }
      return {
        url: response.url,
        body: response.body,
        // Without nextUpdate a response is current only at its thisUpdate, so it is kept one minute.
        freshUntil: nextUpdate ?? new Date(Date.now() + 60_000),
      }
    },
    files: ({ body }) => [[ocspFileName(serial), body]],
  }
}

function decodeChain(bytes: Uint8Array): Certificate[] {
  return decodePem(new TextDecoder().decode(bytes))
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block) => parseCertificate(block.der))
}

/** Pairs each certificate from index `first` on with the next one, its issuer. The last has none. */
function pairs(path: readonly Certificate[], first: number): OcspTarget[] {
  const targets: OcspTarget[] = []
  for (let i = first; i + 1 < path.length; i++) {
    targets.push({ certificate: path[i]!, issuer: path[i + 1]! })
  }
  return targets
}

function deviceTargets(have: CollateralBundle): OcspTarget[] {
  for (const file of NVIDIA_CHAIN_FILES) {
    const bytes = have.get(file)
    if (bytes !== undefined) return pairs(decodeChain(bytes), FIRST_DEVICE_CERTIFICATE_CHECKED)
  }
  return []
}

/** Returns the RIMs of the bundle. A file that is not a readable RIM is left to the verifier. */
function bundleRims(have: CollateralBundle): NvidiaRim[] {
  const rims: NvidiaRim[] = []
  for (const file of have.find(NVIDIA_RIM_FILE_PATTERN)) {
    const bytes = have.get(file)
    if (bytes === undefined) continue
    try {
      rims.push(parseNvidiaRim(bytes))
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
    }
  }
  return rims
}

function rimTargets(have: CollateralBundle): OcspTarget[] {
  return bundleRims(have).flatMap((rim) =>
    pairs(
      rim.signature.certificates.map((der) => parseCertificate(der)),
      0,
    ),
  )
}

/**
 * Lists the RIMs a report needs whose versions no RIM of `have` has, and the OCSP responses
 * `have` lacks for the certificates of its device chain (after the leaf) and its RIM chains. A
 * certificate that is the last of its chain is not queried: its issuer is not at hand, and the
 * last is the root in the chains NVIDIA ships.
 *
 * @throws ParseError when the report or a collateral file cannot be decoded.
 */
export function planNvidiaCollateral(bytes: Uint8Array, have: CollateralBundle): PlannedItem[] {
  const report = parseNvidiaReport(bytes)
  const rims = bundleRims(have)
  const versions = new Set(rims.map((rim) => rim.version.toLowerCase()))
  const opaque = report.response.opaqueData
  const items: PlannedItem[] = []
  for (const [id, version] of [
    [driverRimId(report), opaque.driverVersion],
    [vbiosRimId(report), opaque.vbiosVersion],
  ] as const) {
    if (id === undefined || version === undefined || versions.has(version.toLowerCase())) continue
    items.push(rimItem(id))
  }
  const seen = new Set<string>()
  for (const target of [...deviceTargets(have), ...rimTargets(have)]) {
    const name = ocspFileName(target.certificate.serialNumber)
    if (seen.has(name) || have.get(name) !== undefined) continue
    seen.add(name)
    items.push(ocspItem(target))
  }

  return items
}

/** Creates the planner of NVIDIA GPU reports. */
export function nvidiaPlanner(): CollateralPlanner {
  return { platforms: ['nvidia'], plan: planNvidiaCollateral }
}
