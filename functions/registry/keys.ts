import type { TargetRef } from '../core/model.js';

/**
 * Key design of the registry table. Every read that decides anything is a GetItem or a Query on
 * one partition (strongly consistent); nothing scans the table.
 *
 * | item         | pk                          | sk                              |
 * | ------------ | --------------------------- | ------------------------------- |
 * | tenant       | `TENANT`                    | `<tenant>`                      |
 * | target       | `TARGETS#<tenant>`          | `<webIntegrationId>`            |
 * | registration | `REG#<tenant>#<wiId>`       | `<appId>`                       |
 * | audit entry  | `AUDIT#<tenant>`            | `<ISO time>#<wiId>#<random>`    |
 * | write budget | `BUDGET#<tenant>`           | `tier2`                         |
 * | event record | `EVENT#<tenant>#<wiId>`     | `<eventId>`                     |
 *
 * The lease of a target lives on the target item itself, beside `desiredVersion`: taking it,
 * bumping the version and releasing it are then single-item operations, which DynamoDB
 * serialises, and that is what makes the lost-wake-up argument in reconcile hold.
 */
export interface ItemKey {
  pk: string;
  sk: string;
}

export const keys = {
  tenantPartition: 'TENANT',
  tenant: (tenant: string): ItemKey => ({ pk: 'TENANT', sk: tenant }),
  targetPartition: (tenant: string) => `TARGETS#${tenant}`,
  target: (ref: TargetRef): ItemKey => ({ pk: `TARGETS#${ref.tenant}`, sk: ref.webIntegrationId }),
  registrationPartition: (ref: TargetRef) => `REG#${ref.tenant}#${ref.webIntegrationId}`,
  registration: (ref: TargetRef, appId: string): ItemKey => ({ pk: `REG#${ref.tenant}#${ref.webIntegrationId}`, sk: appId }),
  auditPartition: (tenant: string) => `AUDIT#${tenant}`,
  writeBudget: (tenant: string): ItemKey => ({ pk: `BUDGET#${tenant}`, sk: 'tier2' }),
  event: (ref: TargetRef, eventId: string): ItemKey => ({ pk: `EVENT#${ref.tenant}#${ref.webIntegrationId}`, sk: eventId }),
};
