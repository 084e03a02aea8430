/**
 * The two simulated platforms, apart from index.ts so that the platform list loads no Node-only
 * module (index.ts also exports the key file and the attester).
 *
 * @module
 */
import type { Platform } from '../../core/platform.js'
import { parseSimEvidence, type SimEvidence, sniffSimEvidence } from './format.js'
import {
  parseSampleEvidence,
  type SampleEvidence,
  sniffSampleEvidence,
  verifySampleEvidence,
} from './sample.js'
import { verifySimEvidence } from './verify.js'

/** Creates confide's simulated TEE platform. */
export function simPlatform(): Platform<SimEvidence> {
  return {
    name: 'sim',
    title: 'Simulated TEE (development only)',
    expectations: ['expectedReportData'],
    sniff: sniffSimEvidence,
    parse: parseSimEvidence,
    verify: verifySimEvidence,
  }
}

/** Creates the platform of Trustee's sample TEE. */
export function samplePlatform(): Platform<SampleEvidence> {
  return {
    name: 'sample',
    title: 'Trustee sample TEE (development only)',
    expectations: ['expectedReportData'],
    sniff: sniffSampleEvidence,
    parse: parseSampleEvidence,
    verify: verifySampleEvidence,
  }
}
