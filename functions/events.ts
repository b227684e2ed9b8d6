/**
 * The events that drive the synchronizer, declared once: the CDK stack builds its rule and
 * schedule from these, the local cloud routes with the same pattern, and the handler validates
 * against the same detail-types (DESIGN §4, a contract).
 */

/** Source deployment pipelines put their events under by default. */
export const DEPLOYMENT_EVENT_SOURCE = 'origin-sync.deployments';

export const DETAIL_TYPE_DEPLOYED = 'App Deployed';
export const DETAIL_TYPE_REMOVED = 'App Removed';
export const DEPLOYMENT_DETAIL_TYPES = [DETAIL_TYPE_DEPLOYED, DETAIL_TYPE_REMOVED] as const;
export type DeploymentDetailType = (typeof DEPLOYMENT_DETAIL_TYPES)[number];

/** Which deployment events the rule forwards to the deploy-events function. */
export interface DeploymentRuleConfig {
  /** Event sources to accept (configurable in the stack: pipelines may use their own). */
  sources: string[];
  /** A subset of `DEPLOYMENT_DETAIL_TYPES`. */
  detailTypes: DeploymentDetailType[];
}

export const DEFAULT_DEPLOYMENT_RULE: DeploymentRuleConfig = {
  sources: [DEPLOYMENT_EVENT_SOURCE],
  detailTypes: [...DEPLOYMENT_DETAIL_TYPES],
};

/** An EventBridge event pattern of exact-match lists, the only kind this product uses. */
export type ExactEventPattern = Record<string, string[]>;

export function deploymentEventPattern(config: DeploymentRuleConfig = DEFAULT_DEPLOYMENT_RULE): ExactEventPattern {
  if (config.sources.length === 0) throw new Error('the deployment rule needs at least one event source');
  const unknown = config.detailTypes.filter((type) => !DEPLOYMENT_DETAIL_TYPES.includes(type));
  if (config.detailTypes.length === 0 || unknown.length > 0) {
    throw new Error(`deployment detail-types must be a non-empty subset of ${DEPLOYMENT_DETAIL_TYPES.join(', ')}; got ${config.detailTypes.join(', ')}`);
  }
  return { source: [...config.sources], 'detail-type': [...config.detailTypes] };
}

/** Whether an event matches an exact-match pattern, with EventBridge's semantics for that subset. */
export function matchesEventPattern(pattern: ExactEventPattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, values]) => typeof event[field] === 'string' && values.includes(event[field] as string));
}

/** How often the drift scan runs unless configured otherwise. */
export const DEFAULT_SCAN_INTERVAL_MINUTES = 5;

/** The `detail-type` of the events EventBridge Scheduler and rules send to drift-scan. */
export const SCHEDULED_EVENT_DETAIL_TYPE = 'Scheduled Event';
