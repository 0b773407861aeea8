/**
 * doctor's command line: `--json`, and the target options it shares with `npm run e2e`
 * (`--local`, `--target local|staging`, `--allow-production`), as the variables they stand for.
 * Anything else is a configuration error naming the option.
 */
import { ConfigError } from '../../helpers/core/config.ts';

export interface DoctorArgs {
  json: boolean;
  help: boolean;
  /** What the options set, applied over the environment and .env. */
  env: Record<string, string>;
}

export const USAGE = `usage: npm run doctor -- [--json] [--local | --target local|staging] [--allow-production]
  --json              one JSON document on stdout instead of the report for people
  --local             check the bundled reference platform on purpose (STAGECHECK_TARGET=local)
  --target T          local or staging (STAGECHECK_TARGET)
  --allow-production  check a host outside STAGING_HOST_PATTERN (STAGECHECK_ALLOW_PRODUCTION=true)
exit codes: 0 healthy, 1 a layer is broken (the first one is named), 2 configuration error
`;

export function parseDoctorArgs(argv: readonly string[]): DoctorArgs {
  const args: DoctorArgs = { json: false, help: false, env: {} };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--json') args.json = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--local') args.env.STAGECHECK_TARGET = 'local';
    else if (arg === '--allow-production') args.env.STAGECHECK_ALLOW_PRODUCTION = 'true';
    else if (arg === '--target' || arg.startsWith('--target=')) {
      const value = arg === '--target' ? argv[(i += 1)] : arg.slice('--target='.length);
      if (!value || value.startsWith('--')) throw new ConfigError(['--target needs a value: local (the bundled reference platform) or staging (the deployment STAGING_BASE_URL names)']);
      args.env.STAGECHECK_TARGET = value;
    } else {
      throw new ConfigError([`unknown option ${arg}: doctor takes --json, --local, --target local|staging and --allow-production (npm run doctor -- --help)`]);
    }
  }
  return args;
}
