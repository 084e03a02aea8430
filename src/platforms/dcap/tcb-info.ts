/**
 * Intel TCB info (versions 2 and 3, SGX and TDX): the TCB levels of one FMSPC with their status
 * and advisories, and for TDX the TDX module identities. Format from Intel's "PCS API v4"
 * documentation (TCB info JSON schema).
 *
 * @module
 */
import { JsonFields } from './collateral-shape.js'
import { parseSignedJson } from './signed-json.js'

const STRUCTURE = 'TcbInfo'

/** One TCB level: the minimum SVNs a platform needs for `tcbStatus` to apply. */
export interface TcbLevel {
  /** SGX TCB components 1 to 16, as indexes 0 to 15. */
  readonly sgxComponents: readonly number[]
  readonly pceSvn: number
  /** TDX TCB components 1 to 16 (TDX TCB info only). */
  readonly tdxComponents?: readonly number[]
  readonly tcbDate: string
  /** The status string as Intel wrote it; unknown strings are judged by the evaluator. */
  readonly tcbStatus: string
  readonly advisoryIds: readonly string[]
}

/** A level of an enclave or module identity, chosen by ISVSVN. */
export interface IsvSvnLevel {
  readonly isvSvn: number
  readonly tcbDate: string
  readonly tcbStatus: string
  readonly advisoryIds: readonly string[]
}

export interface TdxModule {
  readonly mrSigner: Uint8Array
  readonly attributes: Uint8Array
  readonly attributesMask: Uint8Array
}

export interface TdxModuleIdentity extends TdxModule {
  /** `TDX_<major version>`, such as `TDX_01`. */
  readonly id: string
  readonly tcbLevels: readonly IsvSvnLevel[]
}

export interface TcbInfo {
  readonly id: 'SGX' | 'TDX'
  readonly version: number
  readonly issueDate: Date
  readonly nextUpdate: Date
  readonly fmspc: Uint8Array
  readonly pceId: Uint8Array
  readonly tcbType: number
  readonly tcbEvaluationDataNumber: number
  readonly tdxModule?: TdxModule
  readonly tdxModuleIdentities: readonly TdxModuleIdentity[]
  readonly tcbLevels: readonly TcbLevel[]
}

/** TCB info with the exact bytes its signature covers. */
export interface SignedTcbInfo {
  readonly tcbInfo: TcbInfo
  readonly body: Uint8Array
  readonly signature: Uint8Array
}

function readComponents(level: JsonFields, key: string): number[] {
  const components = level.objects(key)
  if (components.length !== 16) throw level.fail(key, 'an array of 16 components')
  return components.map((component) => component.integer('svn'))
}

function readLevel(level: JsonFields, version: number, isTdx: boolean): TcbLevel {
  const tcb = level.object('tcb')
  const base = {
    tcbDate: level.string('tcbDate'),
    tcbStatus: level.string('tcbStatus'),
    advisoryIds: level.strings('advisoryIDs'),
  }
  if (version === 2) {
    const sgxComponents: number[] = []
    for (let i = 1; i <= 16; i++)
      sgxComponents.push(tcb.integer(`sgxtcbcomp${String(i).padStart(2, '0')}svn`))
    return { ...base, sgxComponents, pceSvn: tcb.integer('pcesvn') }
  }
  return {
    ...base,
    sgxComponents: readComponents(tcb, 'sgxtcbcomponents'),
    pceSvn: tcb.integer('pcesvn'),
    ...(isTdx ? { tdxComponents: readComponents(tcb, 'tdxtcbcomponents') } : {}),
  }
}

function readModule(fields: JsonFields): TdxModule {
  return {
    mrSigner: fields.hex('mrsigner', 48),
    attributes: fields.hex('attributes', 8),
    attributesMask: fields.hex('attributesMask', 8),
  }
}

/**
 * Decodes a TCB info document (`{"tcbInfo":{...},"signature":"..."}`).
 *
 * @throws ParseError `ERR_PARSE_COLLATERAL` when it is malformed or of an unsupported version.
 */
export function parseTcbInfo(bytes: Uint8Array): SignedTcbInfo {
  const signed = parseSignedJson(bytes, 'tcbInfo', STRUCTURE)
  const fields = new JsonFields(signed.value, 'tcbInfo', STRUCTURE)
  const version = fields.integer('version')
  const id = version === 2 ? 'SGX' : fields.string('id')
  if (id !== 'SGX' && id !== 'TDX') throw fields.fail('id', '"SGX" or "TDX"')
  if (version !== 3 && !(version === 2 && id === 'SGX'))
    throw fields.fail('version', '3 (or 2 for SGX)')
  const isTdx = id === 'TDX'

  const tdxModuleIdentities = fields.has('tdxModuleIdentities')
    ? fields.objects('tdxModuleIdentities').map((identity) => ({
        id: identity.string('id'),
        ...readModule(identity),
        tcbLevels: identity.objects('tcbLevels').map((level) => ({
          isvSvn: level.object('tcb').integer('isvsvn'),
          tcbDate: level.string('tcbDate'),
          tcbStatus: level.string('tcbStatus'),
          advisoryIds: level.strings('advisoryIDs'),
        })),
      }))
    : []

  // Intel defines TCB type 0 only: the order and meaning of the 16 SGX components.
  if (fields.integer('tcbType') !== 0) throw fields.fail('tcbType', '0')
  // A TDX TCB info names the TDX module whose MRSIGNERSEAM every TDX quote is checked against.
  if (isTdx && !fields.has('tdxModule'))
    throw fields.fail('tdxModule', 'an object (required for TDX)')

  const tcbInfo: TcbInfo = {
    id,
    version,
    issueDate: fields.date('issueDate'),
    nextUpdate: fields.date('nextUpdate'),
    fmspc: fields.hex('fmspc', 6),
    pceId: fields.hex('pceId', 2),
    tcbType: fields.integer('tcbType'),
    tcbEvaluationDataNumber: fields.integer('tcbEvaluationDataNumber'),
    ...(fields.has('tdxModule') ? { tdxModule: readModule(fields.object('tdxModule')) } : {}),
    tdxModuleIdentities,
    tcbLevels: fields.objects('tcbLevels').map((level) => readLevel(level, version, isTdx)),
  }
  return { tcbInfo, body: signed.body, signature: signed.signature }
}
