/**
 * Collateral: fetching it from Intel PCS, a PCCS and AMD KDS, caching it in the store, and
 * carrying it offline as bundle directories. Node only.
 *
 * @module
 */
export {
  type CollateralIndex,
  type IndexedDocument,
  type IndexedVcek,
  indexCollateral,
  indexSize,
} from './bundle-index.js'
export { writeCollateralDirectory } from './bundle-writer.js'
export { dcapPlanner, planDcapCollateral } from './dcap-plan.js'
export { loadCollateralDirectory } from './directory.js'
export {
  type FetchCollateralOptions,
  type FetchCollateralResult,
  fetchCollateral,
  type ItemOutcome,
} from './fetch-collateral.js'
export { CollateralFetchError, type FetchFailure, type FetchFailureReason } from './fetch-error.js'
export {
  CollateralFetcher,
  type CollateralFetcherOptions,
  type ItemOrigin,
  type ObtainedItem,
} from './fetcher.js'
export {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
  proxyDispatcher,
  USER_AGENT,
} from './http.js'
export {
  type AmdKeyKind,
  KDS_BASE_URL,
  type KdsCertificate,
  type KdsChain,
  KdsClient,
  type KdsCrl,
} from './kds.js'
export {
  INTEL_PCS_URL,
  INTEL_ROOT_CA_CRL_URL,
  type IntelTee,
  type PckCa,
  PcsClient,
  type PcsCrl,
  type PcsDocument,
  type PcsEndpoints,
  pcsEndpoints,
} from './pcs.js'
export type {
  CollateralPlanner,
  CollateralSources,
  FetchedItem,
  ItemContent,
  PlannedItem,
} from './plan.js'
export { defaultPlanners } from './planners.js'
export {
  type CollateralServer,
  DEFAULT_SERVE_PORT,
  type ServeOptions,
  serveCollateral,
} from './serve.js'
export {
  type CollateralSession,
  type CollateralSessionOptions,
  openCollateralSession,
} from './session.js'
export { planSnpCollateral, snpPlanner } from './snp-plan.js'
