/**
 * The crypto port: the one interface through which confide digests and verifies. The node:crypto
 * adapter is at `confide/crypto/node`.
 *
 * @module
 */
export type {
  CryptoPort,
  DigestAlgorithm,
  NamedCurve,
  PublicKey,
  SignatureAlgorithm,
} from './port.js'
