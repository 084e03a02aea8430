/**
 * Intel enclave identity (version 2) of the Quoting Enclave (`QE`) or the TD Quoting Enclave
 * (`TD_QE`): the identity the QE report must show, and the TCB status of each QE ISVSVN.
 *
 * @module
 */
import { JsonFields } from './collateral-shape.js'
import { parseSignedJson } from './signed-json.js'
import type { IsvSvnLevel } from './tcb-info.js'

const STRUCTURE = 'EnclaveIdentity'

export interface QeIdentity {
  readonly id: string
  readonly version: number
  readonly issueDate: Date
  readonly nextUpdate: Date
  readonly tcbEvaluationDataNumber: number
  /** MISCSELECT as a number, compared with the report's little-endian field. */
  readonly miscSelect: number
  readonly miscSelectMask: number
  readonly attributes: Uint8Array
  readonly attributesMask: Uint8Array
  readonly mrSigner: Uint8Array
  readonly isvProdId: number
  readonly tcbLevels: readonly IsvSvnLevel[]
}

/** QE identity with the exact bytes its signature covers. */
export interface SignedQeIdentity {
  readonly qeIdentity: QeIdentity
  readonly body: Uint8Array
  readonly signature: Uint8Array
}

// NOTE: the hex is read as a big-endian number and compared with the report's little-endian field.
// Some verifiers read it as bytes in report order instead; the two agree on Intel's published
// values (00000000 under mask FFFFFFFF) but not on others.
function hexNumber(fields: JsonFields, key: string): number {
  const bytes = fields.hex(key, 4)
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0
}

/**
 * Decodes an enclave identity document (`{"enclaveIdentity":{...},"signature":"..."}`).
 *
 * @throws ParseError `ERR_PARSE_COLLATERAL` when it is malformed or not version 2.
 */
export function parseQeIdentity(bytes: Uint8Array): SignedQeIdentity {
  const signed = parseSignedJson(bytes, 'enclaveIdentity', STRUCTURE)
  const fields = new JsonFields(signed.value, 'enclaveIdentity', STRUCTURE)
  const version = fields.integer('version')
  if (version !== 2) throw fields.fail('version', '2')
  const qeIdentity: QeIdentity = {
    id: fields.string('id'),
    version,
    issueDate: fields.date('issueDate'),
    nextUpdate: fields.date('nextUpdate'),
    tcbEvaluationDataNumber: fields.integer('tcbEvaluationDataNumber'),
    miscSelect: hexNumber(fields, 'miscselect'),
    miscSelectMask: hexNumber(fields, 'miscselectMask'),
    attributes: fields.hex('attributes', 16),
    attributesMask: fields.hex('attributesMask', 16),
    mrSigner: fields.hex('mrsigner', 32),
    isvProdId: fields.integer('isvprodid'),
    tcbLevels: fields.objects('tcbLevels').map((level) => ({
      isvSvn: level.object('tcb').integer('isvsvn'),
      tcbDate: level.string('tcbDate'),
      tcbStatus: level.string('tcbStatus'),
      advisoryIds: level.strings('advisoryIDs'),
    })),
  }
  return { qeIdentity, body: signed.body, signature: signed.signature }
}
