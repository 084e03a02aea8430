/**
 * Maps the signature algorithm identifiers of certificates and CRLs to the crypto port's
 * algorithms.
 *
 * @module
 */

import { RsaSaPssParams } from '@peculiar/asn1-rsa'
import { AsnConvert } from '@peculiar/asn1-schema'
import type { AlgorithmIdentifier } from '@peculiar/asn1-x509'
import type { DigestAlgorithm, SignatureAlgorithm } from '../crypto/port.js'

const ECDSA_WITH: Record<string, DigestAlgorithm> = {
  '1.2.840.10045.4.3.2': 'SHA-256',
  '1.2.840.10045.4.3.3': 'SHA-384',
  '1.2.840.10045.4.3.4': 'SHA-512',
}

const RSA_WITH: Record<string, DigestAlgorithm> = {
  '1.2.840.113549.1.1.11': 'SHA-256',
  '1.2.840.113549.1.1.12': 'SHA-384',
  '1.2.840.113549.1.1.13': 'SHA-512',
}

const HASH_BY_OID: Record<string, DigestAlgorithm> = {
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
}

const RSASSA_PSS = '1.2.840.113549.1.1.10'
const ED25519 = '1.3.101.112'

/**
 * Returns the port algorithm for an X.509 signature algorithm identifier, or undefined when
 * confide does not accept it (SHA-1 and MD5 among them).
 */
export function signatureAlgorithmOf(
  identifier: AlgorithmIdentifier,
): SignatureAlgorithm | undefined {
  const oid = identifier.algorithm
  const ecdsaHash = ECDSA_WITH[oid]
  if (ecdsaHash !== undefined) return { name: 'ECDSA', hash: ecdsaHash, der: true }
  const rsaHash = RSA_WITH[oid]
  if (rsaHash !== undefined) return { name: 'RSASSA-PKCS1-v1_5', hash: rsaHash }
  if (oid === ED25519) return { name: 'Ed25519' }
  if (oid === RSASSA_PSS && identifier.parameters) {
    const params = AsnConvert.parse(identifier.parameters, RsaSaPssParams)
    const hash = HASH_BY_OID[params.hashAlgorithm.algorithm]
    if (hash === undefined) return undefined
    return { name: 'RSA-PSS', hash, saltLength: params.saltLength }
  }
  return undefined
}
