/**
 * `npm run doctor`: is this environment ready to run the suite, and if not, which layer is
 * broken? Validates the configuration (saying where each value came from), picks the target as
 * `npm run e2e` would, and checks every layer of every endpoint, the token and the stores
 * (scripts/doctor/). Creates no thread, message or run on the target. Prints a report for
 * people, or one JSON document with `--json`; secrets never appear in either.
 *
 *   0  healthy: every layer answered (warnings allowed)
 *   1  a layer is broken: the first one is named, e.g. "backend: TCP refused at 127.0.0.1:4123"
 *   2  configuration error: every problem listed, each naming its variable
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, secretValues } from '../helpers/core/config.ts';
import { messageOf } from '../helpers/core/errors.ts';
import { configuredSecrets, redactDeep, redactSecrets } from '../helpers/core/redact.ts';
import { parseDoctorArgs, USAGE } from './doctor/args.ts';
import { readSourcedEnv } from './doctor/config-sources.ts';
import { renderText } from './doctor/render.ts';
import { DOCTOR_EXIT } from './doctor/report.ts';
import { runDoctor } from './doctor/run.ts';
import { resolveTarget, type ResolvedTarget } from './doctor/target.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG_INVALID = 'the configuration is invalid';

async function main(argv: readonly string[]): Promise<number> {
  const started = performance.now();
  // Known before parsing, so even a bad option is answered in the form asked for.
  let json = argv.includes('--json');
  let secrets: string[] = [...configuredSecrets(process.env)];
  // Every line goes through the one redactor, with every secret this run knows of.
  const print = (text: string, stream: NodeJS.WriteStream = process.stdout): void => {
    stream.write(redactSecrets(text, secrets));
  };
  const fail = (code: number, title: string, problems: string[], sources: Map<string, string> = new Map()): number => {
    // Where each named variable came from: a value from a forgotten .env is a common surprise.
    const named = [...sources].filter(([name]) => problems.some((problem) => new RegExp(`\\b${name}\\b`).test(problem)));
    if (json) {
      print(`${JSON.stringify(redactDeep({ exitCode: code, healthy: false, error: title, problems, sources: Object.fromEntries(named) }, secrets), null, 2)}\n`);
    } else {
      const from = named.length > 0 ? `\n  where the named values came from: ${named.map(([name, source]) => `${name} (${source})`).join(', ')}` : '';
      print(`stagecheck doctor: ${title} (exit ${code}):\n${problems.map((p) => `  - ${p}`).join('\n')}${from}\n`, process.stderr);
    }
    return code;
  };

  let resolved: ResolvedTarget | undefined;
  const stopPlatform = async (): Promise<void> => {
    await resolved?.platform?.stop();
  };
  process.once('SIGINT', () => void stopPlatform().finally(() => process.exit(DOCTOR_EXIT.config)));
  try {
    const args = parseDoctorArgs(argv);
    json = args.json;
    if (args.help) {
      process.stdout.write(USAGE);
      return DOCTOR_EXIT.healthy;
    }
    const sourced = readSourcedEnv(process.env, join(ROOT, '.env'), args.env);
    secrets = [...secrets, ...configuredSecrets(sourced.env)];
    try {
      resolved = await resolveTarget(sourced);
    } catch (error) {
      if (error instanceof ConfigError) return fail(DOCTOR_EXIT.config, CONFIG_INVALID, error.problems, sourced.sources);
      // The bundled platform could not start: the target is broken, not the configuration.
      return fail(DOCTOR_EXIT.broken, 'BROKEN', [`bundled platform: ${messageOf(error)}`]);
    }
    secrets = [...secrets, ...secretValues(resolved.config), ...configuredSecrets(resolved.sourced.env)];
    // The transports read the CA file and the proxy from this process's environment, as in e2e.
    for (const [name, value] of Object.entries(resolved.sourced.env)) if (value !== undefined) process.env[name] = value;

    const report = await runDoctor(resolved);
    report.timings.totalMs = Math.round(performance.now() - started);
    print(json ? `${JSON.stringify(redactDeep(report, secrets), null, 2)}\n` : renderText(report));
    return report.exitCode;
  } catch (error) {
    if (error instanceof ConfigError) return fail(DOCTOR_EXIT.config, CONFIG_INVALID, error.problems);
    return fail(DOCTOR_EXIT.config, 'could not finish (a harness error, not a verdict on the target)', [messageOf(error)]);
  } finally {
    await stopPlatform();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
