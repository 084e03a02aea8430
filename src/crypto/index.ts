export type {
  CryptoPort,
  DigestAlgorithm,
  NamedCurve,
  PublicKey,
  SignatureAlgorithm,
} from './port.js'
