/**
 * Short labels of the name attributes that certificates of TEE vendors use, for formatting
 * distinguished names as `C=US,O=Intel Corporation,CN=...`.
 *
 * @module
 */
export const ATTRIBUTE_LABELS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
}
