/**
 * Claims of an Arm CCA attestation token.
 *
 * Neutral names: `measurement` is the realm initial measurement (RIM), `reportData` the realm
 * challenge, `platformId` the platform instance ID, and `debug` whether the platform lifecycle
 * is one of the two debug states. `raw` contains the claims of both tokens under `platform` and
 * `realm`, by their specification names in camelCase. Veraison's CoRIM profiles name the same
 * values `cca.rim` (initialMeasurement), `cca.rem0`..`cca.rem3` (extensibleMeasurements),
 * `cca.rpv` (personalizationValue), `cca.software-component` (softwareComponents) and
 * `cca.platform-config` (config).
 *
 * @module
 */
import { toHex } from '../../core/bytes.js'
import type { Claims, ClaimValue } from '../../core/types.js'
import type { CcaPlatformClaims, CcaRealmClaims, CcaSoftwareComponent, CcaToken } from './format.js'

/** The security lifecycle states, by the high byte of the lifecycle claim. */
export const LIFECYCLE_STATES: Readonly<Record<number, string>> = {
  0: 'unknown',
  16: 'assembly-and-test',
  32: 'cca-platform-rot-provisioning',
  48: 'secured',
  64: 'non-cca-platform-rot-debug',
  80: 'recoverable-cca-platform-rot-debug',
  96: 'decommissioned',
}

/** Names the lifecycle state of a lifecycle claim: values 0xSS00 to 0xSSFF share state SS. */
export function lifecycleState(lifecycle: number): string {
  return LIFECYCLE_STATES[lifecycle >> 8] ?? 'invalid'
}

/** Tells whether a lifecycle claim is one of the two debug states. */
export function isDebugLifecycle(lifecycle: number): boolean {
  const state = lifecycle >> 8
  return state === 0x40 || state === 0x50
}

function optional(value: string | undefined): string | null {
  return value ?? null
}

function componentClaims(component: CcaSoftwareComponent): ClaimValue {
  return {
    measurementType: optional(component.measurementType),
    measurementValue: toHex(component.measurementValue),
    version: optional(component.version),
    signerId: toHex(component.signerId),
    hashAlgorithm: optional(component.hashAlgorithm),
  }
}

function platformClaims(claims: CcaPlatformClaims): { [key: string]: ClaimValue } {
  return {
    profile: optional(claims.profile),
    challenge: toHex(claims.challenge),
    implementationId: toHex(claims.implementationId),
    instanceId: toHex(claims.instanceId),
    config: toHex(claims.config),
    lifecycle: claims.lifecycle,
    lifecycleState: lifecycleState(claims.lifecycle),
    softwareComponents: claims.softwareComponents.map(componentClaims),
    verificationService: optional(claims.verificationService),
    hashAlgorithm: claims.hashAlgorithm,
  }
}

function realmClaims(claims: CcaRealmClaims): { [key: string]: ClaimValue } {
  return {
    profile: optional(claims.profile),
    challenge: toHex(claims.challenge),
    personalizationValue: toHex(claims.personalizationValue),
    initialMeasurement: toHex(claims.initialMeasurement),
    extensibleMeasurements: claims.extensibleMeasurements.map((rem) => toHex(rem)),
    hashAlgorithm: claims.hashAlgorithm,
    publicKey: toHex(claims.publicKey),
    publicKeyFormat: claims.publicKeyFormat,
    publicKeyHashAlgorithm: claims.publicKeyHashAlgorithm,
  }
}

/** Maps a CCA token to claims. */
export function ccaClaims(token: CcaToken): Claims {
  const platform = token.platform.claims
  const realm = token.realm.claims

  return {
    platform: 'cca',
    measurement: toHex(realm.initialMeasurement),
    reportData: toHex(realm.challenge),
    debug: isDebugLifecycle(platform.lifecycle),
    platformId: toHex(platform.instanceId),
    raw: {
      form: token.form,
      platform: platformClaims(platform),
      realm: realmClaims(realm),
    },
  }
}
