export { type Certificate, findExtension, parseCertificate } from './certificate.js'
export {
  type ChainOptions,
  type ChainResult,
  checkPathRevocation,
  type RevocationResult,
  type RevocationStatus,
  verifyChain,
} from './chain.js'
export { type Crl, parseCrl } from './crl.js'
