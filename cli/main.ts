/**
 * `origin-sync`: the operator CLI (DESIGN §4). Commander parses; each command group lives in
 * `cli/commands/`, works through the same engine as the functions (registerDeployment, reconcile,
 * scanTenant) and returns its exit code:
 *
 * - 0: done (for `plan`: no drift);
 * - 1: an error (one line saying what and what to do; the stack with `--debug`);
 * - 2: `plan` found drift (like `terraform plan -detailed-exitcode`).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerApplyCommand } from './commands/apply.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerRegisterCommands } from './commands/register.js';
import { registerScanCommand } from './commands/scan.js';
import { registerStatusCommand } from './commands/status.js';
import { registerTargetsCommand } from './commands/targets.js';
import { registerTenantsCommand } from './commands/tenants.js';
import { CliContext, EXIT_ERROR, EXIT_OK, type CliIo, type CommandHandler, type GlobalOptions, type Runner } from './context.js';
import { explain, formatError } from './errors.js';

const DESCRIPTION =
  "Operate qlik-origin-sync: see and steer how the validOrigins of Qlik Cloud web integrations follow the registry. " +
  'Points at the local cloud (npm start) unless --region, --profile, --stack or --table name a deployment in AWS.';

const ROOT_EXAMPLES = `
Exit codes: 0 done, 1 error, 2 drift found (plan).

Examples:
  $ npx origin-sync status
  $ npx origin-sync plan --target demo/Abc123          # what would change; exit 2 on drift
  $ npx origin-sync apply --target demo/Abc123
  $ npx origin-sync register --app shop --target demo/Abc123 --origin https://shop.example.com
  $ npx origin-sync audit --since 24h
  $ npx origin-sync status --region eu-west-1 --profile ops --stack QlikOriginSync --json`;

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Builds the command tree; `setExitCode` receives each command's exit code. */
export function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('origin-sync')
    .description(DESCRIPTION)
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand('help [command]', 'show help for a command')
    .optionsGroup('Output:')
    .option('--json', 'print JSON for scripts (stable shapes, documented in the README)')
    .option('--no-color', 'no colours (also off when NO_COLOR is set or output is not a terminal)')
    .option('--debug', 'on error, print the stack trace too')
    .optionsGroup('Where (default: the local cloud of npm start):')
    .option('--state-file <path>', 'state file of the local cloud (default .origin-sync/local.json, or ORIGIN_SYNC_STATE_FILE)')
    .option('--region <region>', 'AWS: region of the stack')
    .option('--profile <name>', 'AWS: named profile for credentials (~/.aws/config)')
    .option('--stack <name>', 'AWS: CloudFormation stack name (default QlikOriginSync)')
    .option('--table <name>', "AWS: the registry table's name, instead of reading it from the stack")
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`origin-sync: ${text.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText('after', ROOT_EXAMPLES);

  const run: Runner =
    <O,>(handler: CommandHandler<O>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const globals = command.optsWithGlobals() as Partial<GlobalOptions>;
      const context = new CliContext(io, {
        json: globals.json === true,
        debug: globals.debug === true,
        color: globals.color !== false,
        ...pick(globals, ['stateFile', 'region', 'profile', 'stack', 'table']),
      });
      try {
        setExitCode(await handler(context, command.opts() as O));
      } catch (error) {
        setExitCode(await report(context, error));
      } finally {
        await context.close().catch(() => undefined);
      }
    };

  registerStatusCommand(program, run);
  registerPlanCommand(program, run);
  registerApplyCommand(program, run);
  registerRegisterCommands(program, run);
  registerTargetsCommand(program, run);
  registerTenantsCommand(program, run);
  registerAuditCommand(program, run);
  registerScanCommand(program, run);
  return program;
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}

/** Prints an error (and with `--json` a JSON document of it on stdout); returns exit code 1. */
async function report(context: CliContext, error: unknown): Promise<number> {
  const explained = explain(error, (await context.openedConnection())?.explainContext);
  if (context.options.json) context.out.data({ error: explained.toJSON() });
  context.out.writeError(formatError(explained, context.options.debug));
  return EXIT_ERROR;
}

/** Runs the CLI on `argv` (without `node` and the script) and resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode = EXIT_OK;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every usage error exits 1 (2 means drift).
      if (error.exitCode === 0) return EXIT_OK;
      if (argv.includes('--json')) io.stdout.write(`${JSON.stringify({ error: { code: 'usage', message: error.message.replace(/^error: /, ''), hint: 'add --help for usage', details: [] } }, null, 2)}\n`);
      return EXIT_ERROR;
    }
    io.stderr.write(formatError(explain(error), argv.includes('--debug')));
    return EXIT_ERROR;
  }
  return exitCode;
}

function processIo(): CliIo {
  // The first Ctrl-C aborts what is in flight (a reconcile then releases its lease and records
  // why); a second one quits at once.
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write('\norigin-sync: stopping (Ctrl-C again to quit at once)\n');
    interrupt.abort(new Error('interrupted by Ctrl-C'));
  });
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd(), signal: interrupt.signal };
}
