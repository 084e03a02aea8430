/**
 * JSON Schemas (draft 2020-12) of the two documents an appraisal reads: the policy and the
 * reference values file. `parsePolicy` and `parseReferenceValuesJson` validate against them. The
 * field descriptions here define what each field means and what its absence means.
 *
 * @module
 */
import { CLAIM_PATH_PATTERN } from './claim-path.js'
import type { JsonSchema } from './json-schema.js'
import { TRUST_CLAIMS } from './trust-vector.js'

/** TCB statuses a policy may accept, in Intel's words (other platforms map onto them). */
export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
  'NoMatchingTcbLevel',
  'CollateralExpired',
] as const

/** ISO-8601 date and time with a zone, such as `2026-01-13T00:00:00Z`. */
const DATE_TIME_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$'

/** Shared definitions: a reference value is both its own document and a policy field. */
const DEFINITIONS: { readonly [name: string]: JsonSchema } = {
  claimPath: {
    type: 'string',
    pattern: CLAIM_PATH_PATTERN,
    maxLength: 200,
    description:
      'A dotted path into the normalized claims: `measurement`, `signer`, `reportData`, `tcb.<component>`, or `raw.<field>` (such as `raw.rtmr0`, `raw.hostData`, `raw.pcrs.4`).',
  },
  dateTime: { type: 'string', pattern: DATE_TIME_PATTERN },
  referenceValue: {
    type: 'object',
    description: 'Accepted values of one claim of one platform.',
    required: ['platform', 'claim', 'values'],
    additionalProperties: false,
    properties: {
      platform: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description: 'Platform name the value applies to, such as `tdx` or `snp`.',
      },
      claim: { $ref: '#/$defs/claimPath' },
      values: {
        type: 'array',
        minItems: 1,
        maxItems: 1000,
        items: { type: 'string', minLength: 1, maxLength: 1024 },
        description:
          'Accepted values: hex (compared without regard to case), decimal integers, or text. The claim passes when it equals any of them.',
      },
      provenance: {
        type: 'object',
        description:
          'Where the value came from. Absent in a file: the file is recorded as the source.',
        required: ['source'],
        additionalProperties: false,
        properties: {
          source: { type: 'string', minLength: 1, maxLength: 1000 },
          format: { enum: ['json', 'corim'] },
          description: { type: 'string', maxLength: 1000 },
          corimProfile: { type: 'string', maxLength: 1000 },
          corimId: { type: 'string', maxLength: 1000 },
          comidId: { type: 'string', maxLength: 1000 },
        },
      },
      notBefore: {
        $ref: '#/$defs/dateTime',
        description: 'First instant the value is valid. Absent: valid from any time.',
      },
      notAfter: {
        $ref: '#/$defs/dateTime',
        description: 'Last instant the value is valid. Absent: valid until replaced.',
      },
    },
  },
}

/** Schema of a reference values file: `{ "referenceValues": [ ... ] }`. */
export const REFERENCE_VALUES_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'confide reference values',
  type: 'object',
  required: ['referenceValues'],
  additionalProperties: false,
  $defs: DEFINITIONS,
  properties: {
    referenceValues: { type: 'array', items: { $ref: '#/$defs/referenceValue' } },
  },
}

/** Schema of an appraisal policy. Every field but `id` is optional, and each documents absent. */
export const POLICY_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'confide appraisal policy',
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  $defs: DEFINITIONS,
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 1000,
      description: 'Names the policy in results (`ear.appraisal-policy-id`). Required.',
    },
    platforms: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 200 },
      description: 'Platforms accepted, such as `tdx`. Absent: any platform that is not simulated.',
    },
    allowSimulated: {
      type: 'boolean',
      description: 'Accept evidence from a simulated TEE. Absent: false.',
    },
    allowDebug: {
      type: 'boolean',
      description: 'Accept a TEE in debug mode. Absent: false.',
    },
    tcb: {
      type: 'object',
      additionalProperties: false,
      description: 'What the TCB must be. Absent: nothing about the TCB is checked.',
      properties: {
        statuses: {
          type: 'array',
          uniqueItems: true,
          items: { enum: [...TCB_STATUSES] },
          description:
            'TCB statuses accepted. Absent: the status is not checked. Evidence without a status (SEV-SNP, Nitro) makes the check not-checked.',
        },
        advisories: {
          type: 'array',
          uniqueItems: true,
          items: { type: 'string', minLength: 1, maxLength: 100 },
          description:
            'Advisory IDs accepted (such as INTEL-SA-00615); any other fails. Absent: advisories are not checked.',
        },
        minimum: {
          type: 'object',
          description:
            'Lowest accepted value of each TCB component, by its name in `claims.tcb` (such as `snp`, `microcode`, `pceSvn`); a list is compared item by item (`sgxComponents`) or byte by byte (hex claims such as `teeTcbSvn`). Absent: not checked.',
          propertyNames: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 100 },
          additionalProperties: {
            anyOf: [
              { type: 'integer', minimum: 0 },
              { type: 'array', maxItems: 64, items: { type: 'integer', minimum: 0, maximum: 255 } },
            ],
          },
        },
      },
    },
    reportData: {
      type: 'string',
      pattern: '^([0-9a-fA-F]{2}){1,64}$',
      description:
        'Report data the evidence must carry, hex; a shorter value is zero-padded on the right to the claim size. Absent: not checked.',
    },
    referenceValues: {
      type: 'object',
      additionalProperties: false,
      description: 'Reference values to match. Absent: those given to `appraise` are compared.',
      properties: {
        require: {
          type: 'array',
          uniqueItems: true,
          items: { $ref: '#/$defs/claimPath' },
          description:
            'Claims that must match a reference value; a claim with no reference value for the platform is not-checked. Absent: none is required.',
        },
        values: {
          type: 'array',
          items: { $ref: '#/$defs/referenceValue' },
          description:
            'Reference values carried in the policy, added to those given to `appraise`. Absent: none.',
        },
      },
    },
    rules: {
      type: 'array',
      description: 'CEL expressions that must evaluate to true, at most 64. Absent: none.',
      maxItems: 64,
      items: {
        type: 'object',
        required: ['name', 'expression'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' },
          expression: { type: 'string', minLength: 1, maxLength: 8192 },
          description: { type: 'string', maxLength: 1000 },
          trustClaim: {
            enum: [...TRUST_CLAIMS],
            description:
              'AR4SI claim a failure lowers (to 96, contraindicated). Absent: `configuration`.',
          },
        },
      },
    },
  },
}
