/**
 * `npm run platform [-- --json] [--fault pg_slow:ms=500 ...]`
 *
 * Starts the reference platform, prints the suite's `.env` lines (or, with --json, exactly one
 * JSON line) on stdout once ready, logs concisely on stderr, and stays up until SIGINT/SIGTERM,
 * then tears everything down and exits 0. A failed start prints one message and exits 1.
 */
import { parseArgs } from 'node:util';
import { optionsFromEnv, startPlatform, type PlatformOptions, type RunningPlatform } from './index.ts';

const usage = `Usage: npm run platform -- [options]

Options:
  --json                 print one JSON line {"ready":true,"env":{...},"startMs":N} instead of .env lines
  --fault <spec>         activate a fault at start, repeatable: pg_slow:ms=500, pg_down, redis_silent, redis_refused
  --think-ms <ms>        pause between agent events (PLATFORM_AGENT_THINK_MS, default 20)
  --heartbeat-s <s>      WebSocket heartbeat after this much client silence (PLATFORM_WS_HEARTBEAT_S, default 35)
  --access-ttl-s <s>     access-token lifetime (PLATFORM_ACCESS_TOKEN_TTL_S, default 1800)
  --environment <name>   reported environment; "production" disables test-auth (PLATFORM_ENVIRONMENT)
  --help                 show this help

Environment: PLATFORM_FAULTS, PLATFORM_VERSION, PLATFORM_DATABASE_URL, PLATFORM_REDIS_URL,
PLATFORM_E2E_BYPASS_KEY (empty = not configured), PLATFORM_LOG_LEVEL (debug|info|warn|error|silent).
`;

function write(line: string): void {
  try {
    process.stdout.write(`${line}\n`);
  } catch {
    // The reader went away; nothing useful to do.
  }
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`--${name} must be a number, got "${value}"`);
  return parsed;
}

function parseCli(argv: string[]): { json: boolean; help: boolean; options: PlatformOptions } {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      fault: { type: 'string', multiple: true },
      'think-ms': { type: 'string' },
      'heartbeat-s': { type: 'string' },
      'access-ttl-s': { type: 'string' },
      environment: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const options: PlatformOptions = { logLevel: 'info', ...optionsFromEnv(), handleSignals: false };
  const faults = [...(typeof options.faults === 'string' ? [options.faults] : []), ...(values.fault ?? [])];
  if (faults.length) options.faults = faults;
  const thinkMs = numberFlag('think-ms', values['think-ms']);
  if (thinkMs !== undefined) options.agentThinkMs = thinkMs;
  const heartbeatS = numberFlag('heartbeat-s', values['heartbeat-s']);
  if (heartbeatS !== undefined) options.wsHeartbeatS = heartbeatS;
  const ttl = numberFlag('access-ttl-s', values['access-ttl-s']);
  if (ttl !== undefined) options.accessTokenTtlS = ttl;
  if (values.environment) options.environment = values.environment;
  return { json: values.json ?? false, help: values.help ?? false, options };
}

function printReady(platform: RunningPlatform, json: boolean): void {
  if (json) {
    write(JSON.stringify({ ready: true, env: platform.env, startMs: platform.startMs }));
    return;
  }
  write(`# stagecheck reference platform ${platform.version} (${platform.environment}); stop with Ctrl-C`);
  for (const [key, value] of Object.entries(platform.env)) write(`${key}=${value}`);
  write(`# ready in ${platform.startMs} ms`);
}

async function main(): Promise<void> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`platform: ${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (cli.help) {
    process.stdout.write(usage);
    return;
  }

  // Signals that arrive while starting are honoured once the start has settled.
  let stopRequested = false;
  let platform: RunningPlatform | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`platform: ${signal} again, exiting without waiting\n`);
      process.exit(1);
    }
    stopRequested = true;
    if (!platform) return;
    process.stderr.write(`platform: ${signal}, stopping\n`);
    const running = platform;
    stopping = running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`platform: teardown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    platform = await startPlatform(cli.options);
  } catch (error) {
    const message = (error as Error).message || String(error);
    process.stderr.write(`platform: failed to start: ${message}\n`);
    if (cli.json) write(JSON.stringify({ ready: false, error: message.split('\n')[0] }));
    process.exit(1);
  }
  printReady(platform, cli.json);
  if (stopRequested) shutdown('SIGTERM');
  watchForOrphaning(() => shutdown('SIGTERM'));
}

/**
 * If whoever started us dies without signalling (a wrapper that does not forward SIGTERM, a
 * crashed test runner), we are re-parented: stop rather than run forever.
 */
function watchForOrphaning(onOrphaned: () => void): void {
  const parent = process.ppid;
  if (parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.stderr.write('platform: parent process exited, stopping\n');
    onOrphaned();
  }, 1000);
  timer.unref();
}

void main();
