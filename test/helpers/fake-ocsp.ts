/**
 * A fake OCSP responder on 127.0.0.1 for tests. It decodes each POSTed OCSPRequest, finds the CA
 * whose key hash the CertID names, and returns a BasicOCSPResponse signed by that CA (or by a
 * delegated responder) that repeats the CertID and the nonce. Knobs make it misbehave: revoked or
 * unknown serials, a broken signature, a stranger's key, a missing or wrong nonce, stale times,
 * an error status, an HTTP error or a delay. Test-only: the keys protect nothing.
 */
import { createHash, type KeyObject, sign } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AsnConvert } from '@peculiar/asn1-schema'
import type { Name } from '@peculiar/asn1-x509'
import { concatBytes } from '../../src/core/bytes.js'
import {
  contentOf,
  decodeOid,
  elementBytes,
  readChildren,
  readElement,
  serialToHex,
} from '../../src/pki/der.js'
import { tlv } from './fake-nvidia.js'
import type { Issued } from './fake-pki.js'

export type FakeStatus = 'good' | 'revoked' | 'unknown'

export interface FakeOcspBehavior {
  /** Status by serial number (canonical hex, such as `0104`). Default: good. */
  readonly statuses?: ReadonlyMap<string, FakeStatus>
  /** Sign with this responder certificate and key instead of the issuing CA's. */
  readonly delegate?: Issued
  /** Sign with a key no CA authorized, sending its certificate. */
  readonly stranger?: Issued
  /** Flip a bit of the signature after signing. */
  readonly breakSignature?: boolean
  readonly nonce?: 'echo' | 'omit' | 'wrong'
  /** thisUpdate and nextUpdate relative to the responder's clock, in milliseconds. */
  readonly thisUpdateOffsetMs?: number
  /** Null leaves nextUpdate out. */
  readonly nextUpdateOffsetMs?: number | null
  /** An OCSPResponseStatus other than successful (0), such as 3 (tryLater). */
  readonly responseStatus?: number
  readonly httpStatus?: number
  /** Delay before the response is sent, in milliseconds. */
  readonly delayMs?: number
  /** Serial number the response names in place of the requested one. */
  readonly answerForSerial?: string
}

export interface FakeOcspResponder {
  readonly url: string
  /** Number of requests received so far. */
  readonly requests: () => number
  /** Sets the CAs whose certificates the responder covers, replacing the ones it had. */
  answerFor(issuers: readonly Issued[]): void
  behave(behavior: FakeOcspBehavior): void
  close(): Promise<void>
}

const ECDSA_SHA384 = Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03)
const OCSP_BASIC = Uint8Array.of(0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01)
const OCSP_NONCE = Uint8Array.of(0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02)
const NONCE_OID = '1.3.6.1.5.5.7.48.1.2'

function generalizedTime(date: Date): Uint8Array {
  const text = date
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return tlv(0x18, new TextEncoder().encode(text))
}

/** SHA-384 of a certificate's subjectPublicKey BIT STRING contents, as a CertID names it. */
function keyHash(issued: Issued): string {
  const spki = new Uint8Array(issued.publicKey.export({ type: 'spki', format: 'der' }))
  const [, bits] = readChildren(spki, readElement(spki, 0, 'spki'), 'spki')
  const key = contentOf(spki, bits!).subarray(1)
  return createHash('sha384').update(key).digest('hex')
}

interface ParsedRequest {
  readonly certIdDer: Uint8Array
  readonly issuerKeyHash: string
  readonly serial: string
  readonly nonce: Uint8Array | undefined
}

function parseRequest(der: Uint8Array): ParsedRequest {
  const s = 'OCSPRequest'
  const [tbs] = readChildren(der, readElement(der, 0, s), s)
  const [list, extensions] = readChildren(der, tbs!, s)
  const [request] = readChildren(der, list!, s)
  const [certId] = readChildren(der, request!, s)
  const [, , keyHashElement, serial] = readChildren(der, certId!, s)
  let nonce: Uint8Array | undefined
  if (extensions !== undefined) {
    const [sequence] = readChildren(der, extensions, s)
    for (const extension of readChildren(der, sequence!, s)) {
      const parts = readChildren(der, extension, s)
      if (decodeOid(contentOf(der, parts[0]!), s) !== NONCE_OID) continue
      const value = contentOf(der, parts[parts.length - 1]!)
      nonce = contentOf(value, readElement(value, 0, s)).slice()
    }
  }
  return {
    certIdDer: elementBytes(der, certId!),
    issuerKeyHash: Buffer.from(contentOf(der, keyHashElement!)).toString('hex'),
    serial: serialToHex(contentOf(der, serial!)),
    nonce,
  }
}

function certStatus(status: FakeStatus, now: Date): Uint8Array {
  if (status === 'good') return Uint8Array.of(0x80, 0x00)
  if (status === 'unknown') return Uint8Array.of(0x82, 0x00)
  const reason = tlv(0xa0, tlv(0x0a, Uint8Array.of(1)))
  return tlv(0xa1, generalizedTime(new Date(now.getTime() - 86_400_000)), reason)
}

function replaceSerial(certIdDer: Uint8Array, serialHex: string): Uint8Array {
  const [algorithm, nameHash, keyHashElement] = readChildren(
    certIdDer,
    readElement(certIdDer, 0, 'c'),
    'c',
  )
  const serial = Uint8Array.from(Buffer.from(serialHex, 'hex'))
  return tlv(
    0x30,
    elementBytes(certIdDer, algorithm!),
    elementBytes(certIdDer, nameHash!),
    elementBytes(certIdDer, keyHashElement!),
    tlv(0x02, serial),
  )
}

/** Encodes the SingleResponse for the request, as the behavior sets it. */
function singleResponse(request: ParsedRequest, behavior: FakeOcspBehavior, now: Date): Uint8Array {
  const status = behavior.statuses?.get(request.serial) ?? 'good'
  const certId =
    behavior.answerForSerial === undefined
      ? request.certIdDer
      : replaceSerial(request.certIdDer, behavior.answerForSerial)
  const thisUpdate = new Date(now.getTime() + (behavior.thisUpdateOffsetMs ?? -60_000))
  const nextOffset =
    behavior.nextUpdateOffsetMs === undefined ? 3_600_000 : behavior.nextUpdateOffsetMs
  const nextUpdate =
    nextOffset === null
      ? new Uint8Array()
      : tlv(0xa0, generalizedTime(new Date(now.getTime() + nextOffset)))

  return tlv(0x30, certId, certStatus(status, now), generalizedTime(thisUpdate), nextUpdate)
}

/** Encodes responseExtensions with the nonce, or nothing. */
function nonceExtension(request: ParsedRequest, behavior: FakeOcspBehavior): Uint8Array {
  const mode = behavior.nonce ?? 'echo'
  const nonce = mode === 'wrong' ? new Uint8Array(32).fill(0xee) : request.nonce
  if (mode === 'omit' || nonce === undefined) return new Uint8Array()

  return tlv(0xa1, tlv(0x30, tlv(0x30, OCSP_NONCE, tlv(0x04, tlv(0x04, nonce)))))
}

function buildResponse(
  request: ParsedRequest,
  signer: { key: KeyObject; certificate: Uint8Array | undefined; name: Uint8Array },
  behavior: FakeOcspBehavior,
  now: Date,
): Uint8Array {
  if (behavior.responseStatus !== undefined) {
    return tlv(0x30, tlv(0x0a, Uint8Array.of(behavior.responseStatus)))
  }
  const responseData = tlv(
    0x30,
    tlv(0xa1, signer.name),
    generalizedTime(now),
    tlv(0x30, singleResponse(request, behavior, now)),
    nonceExtension(request, behavior),
  )
  const signature = new Uint8Array(sign('sha384', responseData, signer.key))
  if (behavior.breakSignature === true) signature[signature.length - 5]! ^= 0x01

  const certs =
    signer.certificate === undefined ? new Uint8Array() : tlv(0xa0, tlv(0x30, signer.certificate))
  const basic = tlv(
    0x30,
    responseData,
    tlv(0x30, ECDSA_SHA384),
    tlv(0x03, concatBytes(Uint8Array.of(0), signature)),
    certs,
  )

  return tlv(0x30, tlv(0x0a, Uint8Array.of(0)), tlv(0xa0, tlv(0x30, OCSP_BASIC, tlv(0x04, basic))))
}

function nameDer(issued: Issued): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(issued.subject as Name))
}

/**
 * Starts a responder on 127.0.0.1 (a free port) that covers certificates issued by any of
 * `issuers` (see also `answerFor`). `now` is its clock for thisUpdate, nextUpdate and producedAt.
 */
export async function startFakeOcspResponder(
  issuers: readonly Issued[] = [],
  now: () => Date = () => new Date(),
): Promise<FakeOcspResponder> {
  let byKeyHash = new Map(issuers.map((issuer) => [keyHash(issuer), issuer]))
  let behavior: FakeOcspBehavior = {}
  let count = 0
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      count++
      const current = behavior
      const answer = () => {
        if (current.httpStatus !== undefined) {
          outgoing.writeHead(current.httpStatus).end()
          return
        }
        const request = parseRequest(new Uint8Array(Buffer.concat(chunks)))
        const issuer = byKeyHash.get(request.issuerKeyHash)
        if (issuer === undefined) {
          outgoing.writeHead(200).end(Buffer.from(tlv(0x30, tlv(0x0a, Uint8Array.of(6)))))
          return
        }
        const chosen = current.stranger ?? current.delegate
        const signer =
          chosen === undefined
            ? { key: issuer.privateKey, certificate: undefined, name: nameDer(issuer) }
            : { key: chosen.privateKey, certificate: chosen.der, name: nameDer(chosen) }
        const body = buildResponse(request, signer, current, now())
        outgoing
          .writeHead(200, { 'content-type': 'application/ocsp-response' })
          .end(Buffer.from(body))
      }
      if (current.delayMs === undefined) answer()
      else setTimeout(answer, current.delayMs).unref()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: () => count,
    answerFor(next) {
      byKeyHash = new Map(next.map((issuer) => [keyHash(issuer), issuer]))
    },
    behave(next) {
      behavior = next
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
