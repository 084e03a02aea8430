/**
 * The public keys a verification in the service trusts directly, chosen by platform. The local
 * sim key goes to `sim` evidence only. The keys the operator gave (TPM attestation keys, Arm CCA
 * platform keys) go to `tpm` and `cca` evidence only. So no key meant for one platform is ever
 * taken as a signer of another.
 *
 * @module
 */

/** Platforms that verify a signature with a key trusted directly, not through a certificate. */
export const KEY_TRUSTING_PLATFORMS: readonly string[] = ['tpm', 'cca']

/** The keys the service trusts directly, as DER SubjectPublicKeyInfo or TPM2B_PUBLIC. */
export interface TrustedKeySources {
  /** Returns the keys trusted for `sim` evidence. */
  readonly sim: () => Promise<readonly Uint8Array[]>
  /** Keys trusted for the platforms in `KEY_TRUSTING_PLATFORMS`. */
  readonly platform: readonly Uint8Array[]
}

/** Returns the keys a verification of `platform` evidence trusts; none for an unknown platform. */
export async function trustedKeysFor(
  platform: string | undefined,
  sources: TrustedKeySources,
): Promise<readonly Uint8Array[]> {
  if (platform === 'sim') return sources.sim()
  if (platform !== undefined && KEY_TRUSTING_PLATFORMS.includes(platform)) return sources.platform

  return []
}
