/**
 * NVIDIA's two roots, pinned in the code.
 *
 * - The NVIDIA Device Identity CA ends every GPU's device certificate chain. NVIDIA ships it in
 *   nvtrust as `guest_tools/gpu_verifiers/local_gpu_verifier/src/verifier/certs/
 *   verifier_device_root.pem`. Subject `CN=NVIDIA Device Identity CA,O=NVIDIA`, ECDSA P-384,
 *   valid 2021-11-05 to 9999-12-31.
 * - The NVIDIA CoRIM signing Root CA ends the chain of every RIM (the signed reference values).
 *   nvtrust ships it as `.../verifier/certs/verifier_RIM_root.pem`. Subject
 *   `C=US,O=NVIDIA,CN=NVIDIA CoRIM signing Root CA`, ECDSA P-384, valid 2023-03-16 to 2053-03-08.
 *
 * The SHA-256 fingerprints below match the ones other verifiers pin for these roots, and a test
 * checks each against the PEM here.
 *
 * @module
 */
import { decodePem } from '../../core/bytes.js'
import { type Certificate, parseCertificate } from '../../pki/certificate.js'

/** SHA-256 of the Device Identity CA's DER, in lower-case hex. */
export const NVIDIA_DEVICE_ROOT_SHA256 =
  '102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48'

/** SHA-256 of the CoRIM signing Root CA's DER, in lower-case hex. */
export const NVIDIA_RIM_ROOT_SHA256 =
  '12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1'

export const NVIDIA_DEVICE_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICCzCCAZCgAwIBAgIQLTZwscoQBBHB/sDoKgZbVDAKBggqhkjOPQQDAzA1MSIw
IAYDVQQDDBlOVklESUEgRGV2aWNlIElkZW50aXR5IENBMQ8wDQYDVQQKDAZOVklE
SUEwIBcNMjExMTA1MDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMDUxIjAgBgNVBAMM
GU5WSURJQSBEZXZpY2UgSWRlbnRpdHkgQ0ExDzANBgNVBAoMBk5WSURJQTB2MBAG
ByqGSM49AgEGBSuBBAAiA2IABA5MFKM7+KViZljbQSlgfky/RRnEQScW9NDZF8SX
gAW96r6u/Ve8ZggtcYpPi2BS4VFu6KfEIrhN6FcHG7WP05W+oM+hxj7nyA1r1jkB
2Ry70YfThX3Ba1zOryOP+MJ9vaNjMGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B
Af8EBAMCAQYwHQYDVR0OBBYEFFeF/4PyY8xlfWi3Olv0jUrL+0lfMB8GA1UdIwQY
MBaAFFeF/4PyY8xlfWi3Olv0jUrL+0lfMAoGCCqGSM49BAMDA2kAMGYCMQCPeFM3
TASsKQVaT+8S0sO9u97PVGCpE9d/I42IT7k3UUOLSR/qvJynVOD1vQKVXf0CMQC+
EY55WYoDBvs2wPAH1Gw4LbcwUN8QCff8bFmV4ZxjCRr4WXTLFHBKjbfneGSBWwA=
-----END CERTIFICATE-----
`

export const NVIDIA_RIM_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICKTCCAbCgAwIBAgIQRdrjoA5QN73fh1N17LXicDAKBggqhkjOPQQDAzBFMQsw
CQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxOVklESUEgQ29S
SU0gc2lnbmluZyBSb290IENBMCAXDTIzMDMxNjE1MzczNFoYDzIwNTMwMzA4MTUz
NzM0WjBFMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxO
VklESUEgQ29SSU0gc2lnbmluZyBSb290IENBMHYwEAYHKoZIzj0CAQYFK4EEACID
YgAEuECyi9vNM+Iw2lfUzyBldHAwaC1HF7TCgp12QcEyUTm3Tagxwr48d55+K2VI
lWYIDk7NlAIQdcV/Ff7euGLI+Qauj93HsSI4WX298PpW54RTgz9tC+Q684caR/BX
WEeZo2MwYTAdBgNVHQ4EFgQUpaXrOPK4ZDAk08DBskn594zeZjAwHwYDVR0jBBgw
FoAUpaXrOPK4ZDAk08DBskn594zeZjAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B
Af8EBAMCAQYwCgYIKoZIzj0EAwMDZwAwZAIwHGDyscDP6ihHqRvZlI3eqZ4YkvjE
1duaN84tAHRVgxVMvNrp5Tnom3idHYGW/dskAjATvjIx6VzHm/4e2GiZAyZEIUBD
OKPzp5ei/A0iUZpdvngenDwV8Qa/wGdiTmJ7Bp4=
-----END CERTIFICATE-----
`

let deviceRoot: Certificate | undefined
let rimRoot: Certificate | undefined

function decodeRoot(pem: string): Certificate {
  const block = decodePem(pem)[0]
  if (block === undefined) throw new Error('a pinned NVIDIA root contains no PEM block')

  return parseCertificate(block.der)
}

/** Returns the pinned Device Identity CA, decoded once and then shared. */
export function pinnedDeviceRoot(): Certificate {
  deviceRoot ??= decodeRoot(NVIDIA_DEVICE_ROOT_PEM)
  return deviceRoot
}

/** Returns the pinned CoRIM signing Root CA, decoded once and then shared. */
export function pinnedRimRoot(): Certificate {
  rimRoot ??= decodeRoot(NVIDIA_RIM_ROOT_PEM)
  return rimRoot
}
