/**
 * Attesters: evidence from inside a TEE, bound to report data the caller chooses. Node only.
 *
 * @module
 */
export {
  AttestError,
  type AttestErrorCode,
  type Attester,
  type AttestFileSystem,
  NODE_FILE_SYSTEM,
  PLAIN_FILE_SYSTEM,
  padReportData,
  REPORT_DATA_SIZE,
} from './attester.js'
export {
  createTsmAttester,
  probeTsmProvider,
  TSM_REPORT_FOLDER,
  type TsmAttesterOptions,
  tsmEvidence,
} from './configfs-tsm.js'
export {
  ATTESTER_KINDS,
  type AttesterKind,
  createAttester,
  type DetectAttesterOptions,
  detectAttester,
  isAttesterKind,
} from './detect.js'
export {
  createGramineAttester,
  GRAMINE_ATTESTATION_FOLDER,
  type GramineAttesterOptions,
  probeGramineType,
} from './gramine.js'
export { createSimAttester, type SimAttesterOptions } from './sim.js'
