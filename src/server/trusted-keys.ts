/**
 * The public keys a verification in the service trusts directly, chosen by platform. The local
 * sim key goes to `sim` evidence only. The TPM attestation keys the operator gave go to `tpm`
 * evidence only, and the Arm CCA platform keys to `cca` evidence only. So no key meant for one
 * platform is ever taken as a signer of another: a TPM can be made to sign arbitrary data with a
 * restricted key, so its AK must never vouch for a CCA token.
 *
 * @module
 */

/** Keys the operator trusts directly, per platform, as DER SPKI (or TPM2B_PUBLIC for a TPM). */
export interface PlatformKeys {
  /** TPM attestation keys. */
  readonly tpm?: readonly Uint8Array[]
  /** Arm CCA platform attestation keys (CPAKs). */
  readonly cca?: readonly Uint8Array[]
}

/** The keys the service trusts directly. */
export interface TrustedKeySources {
  /** Returns the keys trusted for `sim` evidence. */
  readonly sim: () => Promise<readonly Uint8Array[]>
  readonly platform: PlatformKeys
}

/** Returns the keys a verification of `platform` evidence trusts; none for other platforms. */
export async function trustedKeysFor(
  platform: string | undefined,
  sources: TrustedKeySources,
): Promise<readonly Uint8Array[]> {
  if (platform === 'sim') return sources.sim()
  if (platform === 'tpm') return sources.platform.tpm ?? []
  if (platform === 'cca') return sources.platform.cca ?? []

  return []
}
