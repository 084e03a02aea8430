/**
 * The collateral planners confide ships. Adding a platform with collateral means adding its
 * planner here, one line.
 *
 * NVIDIA GPU evidence is not planned yet: its planner, whose items fetch reference integrity
 * manifests from NVIDIA's RIM service and certificate status over OCSP through
 * `CollateralSources.http`, belongs in this list once the `nvidia` platform exists.
 *
 * @module
 */
import { dcapPlanner } from './dcap-plan.js'
import type { CollateralPlanner } from './plan.js'
import { snpPlanner } from './snp-plan.js'

/** Creates the planners of every platform whose evidence needs fetched collateral. */
export function defaultPlanners(): CollateralPlanner[] {
  return [
    dcapPlanner(),
    snpPlanner(),
    // New planners go here, one line each.
  ]
}
