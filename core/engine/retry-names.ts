/** Retry policies every webhook may name without declaring them under `retryPolicies:`. */
export const BUILT_IN_RETRY_POLICIES = ["bloomreach", "exponential"] as const;

/** The retry policy of a webhook that names none. */
export const DEFAULT_RETRY_POLICY = "bloomreach";
