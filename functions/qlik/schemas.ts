/**
 * The shapes Qlik's web-integrations API answers with, as zod schemas.
 *
 * The seed document marks almost every field optional; we require what the product relies on
 * (`id`, `name`, `validOrigins`) because an answer without them cannot be acted on safely: reading a
 * missing `validOrigins` as "no origins" would make a reconcile drop origins people added.
 * Unknown fields are dropped.
 */
import { z } from 'zod';

const href = z.object({ href: z.string() });

export const webIntegrationSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  validOrigins: z.array(z.string()),
  created: z.string().optional(),
  lastUpdated: z.string().optional(),
  tenantId: z.string().optional(),
  createdBy: z.string().optional(),
});

export const webIntegrationListSchema = z.object({
  data: z.array(webIntegrationSchema),
  links: z
    .object({
      self: href.optional(),
      next: href.optional(),
      prev: href.optional(),
    })
    .optional(),
});

export const createdWebIntegrationSchema = webIntegrationSchema.extend({
  links: z.object({ self: href }).optional(),
});

/** Qlik's error envelope. `status` is a string in Qlik's answers; a number is tolerated. */
export const errorEnvelopeSchema = z.object({
  errors: z
    .array(
      z.object({
        code: z.string(),
        title: z.string(),
        detail: z.string().optional(),
        status: z.union([z.string(), z.number().transform(String)]).optional(),
        source: z
          .object({ pointer: z.string().optional(), parameter: z.string().optional() })
          .optional(),
        meta: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .min(1),
  traceId: z.string().optional(),
});

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive(),
});

/** Renders zod issues as `data[3].validOrigins: expected array, received string; ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${formatPath(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`)
    .concat(error.issues.length > 5 ? [`and ${error.issues.length - 5} more`] : [])
    .join('; ');
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(body)';
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}
