import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS } from './settings.js';

/**
 * One structured JSON logger and one EMF metrics emitter per container, shared by the handlers.
 * Nothing secret is ever passed to them: credentials stay inside the credentials module and the
 * Qlik client, and errors that reach the logs name secrets by id, never by value.
 */
export const logger = new Logger({ serviceName: METRICS.service });

export const metrics = new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service });
