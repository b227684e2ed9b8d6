/**
 * `origin-sync targets add|list|set-policy`: the web integrations the synchronizer manages and
 * their policies. Policies are validated by `parsePolicy`, the same schema the registry reads
 * them back with; every invalid field is listed at once.
 */
import { Option, type Command } from 'commander';
import { describeTarget, type TargetRef, type TargetState } from '../../functions/core/model.js';
import { parsePolicy, type Policy, type PolicyInput } from '../../functions/core/policy.js';
import { TenantNotFoundError } from '../../functions/registry/errors.js';
import { parseCount, parseTargetRef, parseTenantName } from '../arguments.js';
import type { Connection } from '../connection.js';
import { EXIT_OK, type CliContext, type Runner } from '../context.js';
import { CliError, explain } from '../errors.js';
import { listOrDash } from '../format.js';
import { plural } from '../output.js';
import { allTargets, selectTargets } from '../selection.js';

/** One target in `targets list --json` and `targets add|set-policy --json` (stable keys). */
export interface TargetRecord {
  target: string;
  tenant: string;
  webIntegrationId: string;
  policy: Policy;
  desiredVersion: number;
  appliedVersion: number;
  managedOrigins: string[];
}

interface PolicyFlags {
  allowedOrigin?: string[];
  staticOrigin?: string[];
  clearStaticOrigins?: boolean;
  mode?: Policy['mode'];
  ownership?: Policy['ownership'];
  maxRemovals?: string;
  allowHttpLocalhost?: boolean;
}

interface AddOptions extends PolicyFlags {
  target: string;
  verify: boolean;
}

interface SetPolicyOptions extends PolicyFlags {
  target: string;
}

const ADD_EXAMPLES = `
Patterns: "https://shop.example.com", or "https://*.apps.example.com" where * stands for one or
more DNS labels. Until a target allows something, every registration on it is rejected.

Examples:
  $ npx origin-sync targets add --target demo/Abc123 --allowed-origin 'https://*.example.com'
  $ npx origin-sync targets add --target acme/Def456 --allowed-origin 'https://*.apps.acme.com' https://acme.com \\
      --mode upsert-only --max-removals 3 --static-origin https://acme.com`;

const SET_POLICY_EXAMPLES = `
Changes only the fields given; lists given replace the stored ones. The next reconcile (the
scan, or "origin-sync apply") applies the new policy; "origin-sync plan" shows what it would do.

Examples:
  $ npx origin-sync targets set-policy --target demo/Abc123 --max-removals 20
  $ npx origin-sync targets set-policy --target demo/Abc123 --allowed-origin 'https://*.example.com' 'https://*.example.org'
  $ npx origin-sync targets set-policy --target demo/Abc123 --mode upsert-only --clear-static-origins`;

export function registerTargetsCommand(program: Command, run: Runner): void {
  const targets = program
    .command('targets')
    .description('the web integrations under management and their policies: add, list, set-policy')
    .addHelpText('after', '\nExamples:\n  $ npx origin-sync targets list\n  $ npx origin-sync targets add --help');

  addPolicyOptions(
    targets
      .command('add')
      .description('put a web integration under management, with its policy')
      .requiredOption('--target <tenant/id>', 'the tenant and the web integration id, e.g. demo/Abc123'),
  )
    .option('--no-verify', 'do not check with Qlik that the web integration exists')
    .addHelpText('after', ADD_EXAMPLES)
    .action(run(addTarget));

  addTenantFilter(targets.command('list').description('list the targets and their policies'))
    .addHelpText('after', '\nExamples:\n  $ npx origin-sync targets list\n  $ npx origin-sync targets list --tenant acme --json')
    .action(run(listTargets));

  addPolicyOptions(
    targets
      .command('set-policy')
      .description("change fields of a target's policy")
      .requiredOption('--target <tenant/id>', 'the target, e.g. demo/Abc123'),
  )
    .option('--clear-static-origins', 'remove every static origin')
    .addHelpText('after', SET_POLICY_EXAMPLES)
    .action(run(setPolicy));
}

function addPolicyOptions(command: Command): Command {
  return command
    .option('--allowed-origin <pattern...>', 'origins or patterns the target may carry (https://*.example.com)')
    .addOption(new Option('--mode <mode>', 'sync: remove origins no longer desired; upsert-only: never remove').choices(['sync', 'upsert-only']))
    .addOption(new Option('--ownership <ownership>', 'managed: remove only origins this system added; exclusive: the registry is the only truth').choices(['managed', 'exclusive']))
    .option('--max-removals <n>', 'removal guard: most origins one run may remove (default 10)')
    .option('--static-origin <url...>', 'origins the target always carries (must be allowed)')
    .option('--allow-http-localhost', 'also accept http://localhost[:port] (development)')
    .option('--no-allow-http-localhost', 'stop accepting http://localhost');
}

function addTenantFilter(command: Command): Command {
  return command.option('--tenant <name>', 'only the targets of this tenant');
}

/** The policy fields the flags set (only those given). */
function policyChanges(flags: PolicyFlags): PolicyInput {
  return {
    ...(flags.allowedOrigin !== undefined && { allowedOrigins: flags.allowedOrigin }),
    ...(flags.mode !== undefined && { mode: flags.mode }),
    ...(flags.ownership !== undefined && { ownership: flags.ownership }),
    ...(flags.maxRemovals !== undefined && { maxRemovalsPerRun: parseCount(flags.maxRemovals, '--max-removals') }),
    ...(flags.staticOrigin !== undefined && { staticOrigins: flags.staticOrigin }),
    ...(flags.clearStaticOrigins === true && { staticOrigins: [] }),
    ...(flags.allowHttpLocalhost !== undefined && { allowHttpLocalhost: flags.allowHttpLocalhost }),
  };
}

async function addTarget(context: CliContext, options: AddOptions): Promise<number> {
  const ref = parseTargetRef(options.target);
  const policy = parsePolicy(policyChanges(options));
  const connection = await context.connection();
  const tenant = await connection.registry.getTenant(ref.tenant);
  if (!tenant) throw new TenantNotFoundError(ref.tenant);
  if (await connection.registry.getTarget(ref)) {
    throw new CliError(`target ${describeTarget(ref)} already exists`, {
      code: 'already-exists',
      hint: `change its policy with "origin-sync targets set-policy --target ${describeTarget(ref)}"`,
    });
  }
  const integrationName = options.verify ? await integrationNameOf(connection, ref) : null;
  await connection.registry.putTarget(ref, policy);
  const added = await readBack(connection, ref);
  if (context.out.json) {
    context.out.data({ ...toRecord(added), integrationName });
    return EXIT_OK;
  }
  context.out.line(`Added target ${context.out.style.bold(describeTarget(ref))}${integrationName === null ? '' : ` (web integration "${integrationName}")`}.`);
  printPolicy(context, policy);
  if (policy.allowedOrigins.length === 0) {
    context.out.warn(`${describeTarget(ref)} allows no origins yet: every registration on it is rejected until you set --allowed-origin with "origin-sync targets set-policy"`);
  }
  return EXIT_OK;
}

async function integrationNameOf(connection: Connection, ref: TargetRef): Promise<string> {
  const tenant = (await connection.registry.getTenant(ref.tenant))!;
  try {
    const qlik = await connection.qlikFor(tenant);
    return (await qlik.get(ref.webIntegrationId)).name;
  } catch (error) {
    const explained = explain(error, connection.explainContext);
    throw new CliError(`cannot check ${describeTarget(ref)} with Qlik: ${explained.message}`, {
      code: explained.code,
      hint: explained.code === 'not-found' ? 'check the web integration id (Qlik: Management console > Web)' : 'fix that, or add --no-verify to add the target unchecked',
      cause: error,
    });
  }
}

async function listTargets(context: CliContext, options: { tenant?: string }): Promise<number> {
  const connection = await context.connection();
  const targets = allTargets(await selectTargets(connection.registry, options.tenant === undefined ? {} : { tenant: parseTenantName(options.tenant) }));
  if (context.out.json) {
    context.out.data({ targets: targets.map(toRecord) });
    return EXIT_OK;
  }
  if (targets.length === 0) {
    context.out.line('No targets yet: add one with "origin-sync targets add --target TENANT/ID --allowed-origin PATTERN".');
    return EXIT_OK;
  }
  context.out.table(
    ['TARGET', 'MODE', 'OWNERSHIP', 'MAX REMOVALS', 'ALLOWED ORIGINS', 'STATIC ORIGINS'],
    targets.map((target) => [
      describeTarget(target.ref),
      target.policy.mode,
      target.policy.ownership,
      String(target.policy.maxRemovalsPerRun),
      target.policy.allowedOrigins.length === 0 ? context.out.style.yellow('(none: rejects all)') : target.policy.allowedOrigins,
      target.policy.staticOrigins.length === 0 ? '-' : target.policy.staticOrigins,
    ]),
  );
  return EXIT_OK;
}

async function setPolicy(context: CliContext, options: SetPolicyOptions): Promise<number> {
  const ref = parseTargetRef(options.target);
  const changes = policyChanges(options);
  if (Object.keys(changes).length === 0) {
    throw new CliError('nothing to change', {
      code: 'usage',
      hint: 'pass at least one of --allowed-origin, --mode, --ownership, --max-removals, --static-origin, --clear-static-origins, --[no-]allow-http-localhost',
    });
  }
  const connection = await context.connection();
  const current = await connection.registry.getTarget(ref);
  if (!current) {
    throw new CliError(`target ${describeTarget(ref)} is not configured`, { code: 'not-found', hint: `add it with "origin-sync targets add --target ${describeTarget(ref)}"` });
  }
  const policy = parsePolicy({ ...current.policy, ...changes });
  const changed = (Object.keys(policy) as (keyof Policy)[]).filter((key) => JSON.stringify(policy[key]) !== JSON.stringify(current.policy[key]));
  if (changed.length > 0) await connection.registry.putTarget(ref, policy);
  const updated = changed.length > 0 ? await readBack(connection, ref) : current;
  if (context.out.json) {
    context.out.data({ ...toRecord(updated), changed });
    return EXIT_OK;
  }
  if (changed.length === 0) {
    context.out.line(`The policy of ${describeTarget(ref)} already says that; nothing changed.`);
    return EXIT_OK;
  }
  context.out.line(`Changed ${plural(changed.length, 'field')} of the policy of ${context.out.style.bold(describeTarget(ref))}:`);
  for (const key of changed) {
    context.out.line(`  ${key}: ${show(current.policy[key])} -> ${context.out.style.bold(show(policy[key]))}`);
  }
  context.out.note(`"origin-sync plan --target ${describeTarget(ref)}" shows what this changes in Qlik; the next scan or "origin-sync apply" applies it.`);
  return EXIT_OK;
}

function show(value: unknown): string {
  return Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
}

async function readBack(connection: Connection, ref: TargetRef): Promise<TargetState> {
  const target = await connection.registry.getTarget(ref);
  if (!target) throw new CliError(`target ${describeTarget(ref)} vanished while it was written`, { code: 'conflict', hint: 'try again' });
  return target;
}

function printPolicy(context: CliContext, policy: Policy): void {
  context.out.line(`  allowed origins: ${listOrDash(policy.allowedOrigins)}`);
  context.out.line(`  mode ${policy.mode}, ownership ${policy.ownership}, at most ${plural(policy.maxRemovalsPerRun, 'removal')} per run`);
  if (policy.staticOrigins.length > 0) context.out.line(`  static origins: ${policy.staticOrigins.join(', ')}`);
  if (policy.allowHttpLocalhost) context.out.line('  accepts http://localhost');
}

function toRecord(target: TargetState): TargetRecord {
  return {
    target: describeTarget(target.ref),
    tenant: target.ref.tenant,
    webIntegrationId: target.ref.webIntegrationId,
    policy: target.policy,
    desiredVersion: target.desiredVersion,
    appliedVersion: target.appliedVersion,
    managedOrigins: target.managedOrigins,
  };
}
