/**
 * The collateral planners confide ships. Adding a platform with collateral means adding its
 * planner here, one line.
 *
 * @module
 */
import { dcapPlanner } from './dcap-plan.js'
import { nvidiaPlanner } from './nvidia-plan.js'
import type { CollateralPlanner } from './plan.js'
import { snpPlanner } from './snp-plan.js'

/** Creates the planners of every platform whose evidence needs fetched collateral. */
export function defaultPlanners(): CollateralPlanner[] {
  return [
    dcapPlanner(),
    snpPlanner(),
    nvidiaPlanner(),
    // New planners go here, one line each.
  ]
}
