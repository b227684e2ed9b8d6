export { QlikClient, createQlikClient } from './client.js';
export type { QlikClientOptions } from './client.js';
export type {
  CallOptions,
  CreateWebIntegrationInput,
  ListPageRequest,
  ListQuery,
  ListSort,
  WebIntegration,
  WebIntegrationPage,
  WebIntegrationPatchOperation,
  WebIntegrationsApi,
} from './types.js';
export { QlikApiError, QlikRequestAbortedError, isQlikApiError, isQlikRequestAbortedError } from './errors.js';
export type { HttpMethod, QlikErrorItem, QlikErrorKind } from './errors.js';
export { ApiKeyAuth, ClientCredentialsAuth, authFromCredentials } from './auth.js';
export type { AuthProvider, ClientCredentialsOptions, QlikCredentials } from './auth.js';
export { defaultRetryPolicy, backoffDelay, parseRetryAfter, realSleep } from './retry.js';
export type { RetryPolicy, Sleep } from './retry.js';
export { TokenBucket, qlikRateLimits, rateLimiterFor, resetRateLimiters } from './rateLimiter.js';
export type { RateLimitBudget, RateLimitBudgets, RateLimitTier } from './rateLimiter.js';
export { closeQlikPools, defaultPoolTimeouts } from './pool.js';
export type { PoolTimeouts } from './pool.js';
