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
  --profile <name>       default (fast) or staging (staging-like: the switches below, PLATFORM_PROFILE)
  --fault <spec>         activate a fault at start, repeatable: pg_slow:ms=500, pg_down, redis_silent, redis_refused
  --think-ms <ms>        pause between agent events (PLATFORM_AGENT_THINK_MS; default 20, staging 1000)
  --event-gap-ms <ms>    the same as --think-ms (PLATFORM_EVENT_GAP_MS)
  --heartbeat-s <s>      WebSocket heartbeat after this much client silence (PLATFORM_WS_HEARTBEAT_S, default 35)
  --access-ttl-s <s>     access-token lifetime (PLATFORM_ACCESS_TOKEN_TTL_S, default 1800)
  --environment <name>   reported environment; "production" disables test-auth (PLATFORM_ENVIRONMENT)

Staging-like switches (each on alone, or all with --profile staging; an explicit value wins):
  --tls, --no-tls        HTTPS/WSS with a CA generated at start, printed as STAGING_CA_FILE (PLATFORM_TLS)
  --cold-start-ms <ms>   delay of the first request to backend, auth and WebSocket (PLATFORM_COLD_START_MS; staging 3000)
  --agent <style>        deterministic or llm (PLATFORM_AGENT; staging llm)
  --frames <style>       flat or wrapped (PLATFORM_FRAMES; staging wrapped)
  --history <style>      array or envelope (PLATFORM_HISTORY; staging envelope)
  --ws-ping-ms <ms>      server WebSocket pings during runs, 0 = none (PLATFORM_WS_PING_MS; staging 2500)
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
      profile: { type: 'string' },
      fault: { type: 'string', multiple: true },
      'think-ms': { type: 'string' },
      'event-gap-ms': { type: 'string' },
      tls: { type: 'boolean' },
      'no-tls': { type: 'boolean' },
      'cold-start-ms': { type: 'string' },
      agent: { type: 'string' },
      frames: { type: 'string' },
      history: { type: 'string' },
      'ws-ping-ms': { type: 'string' },
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
  if (values.profile !== undefined) options.profile = values.profile as PlatformOptions['profile'];
  if (values['think-ms'] !== undefined && values['event-gap-ms'] !== undefined) throw new Error('give --think-ms or --event-gap-ms, not both (they are the same setting)');
  const thinkMs = numberFlag('think-ms', values['think-ms']) ?? numberFlag('event-gap-ms', values['event-gap-ms']);
  if (thinkMs !== undefined) options.agentThinkMs = thinkMs;
  if (values.tls && values['no-tls']) throw new Error('give --tls or --no-tls, not both');
  if (values.tls) options.tls = true;
  if (values['no-tls']) options.tls = false;
  const coldStartMs = numberFlag('cold-start-ms', values['cold-start-ms']);
  if (coldStartMs !== undefined) options.coldStartMs = coldStartMs;
  if (values.agent !== undefined) options.agentStyle = values.agent as PlatformOptions['agentStyle'];
  if (values.frames !== undefined) options.frameStyle = values.frames as PlatformOptions['frameStyle'];
  if (values.history !== undefined) options.historyStyle = values.history as PlatformOptions['historyStyle'];
  const pingMs = numberFlag('ws-ping-ms', values['ws-ping-ms']);
  if (pingMs !== undefined) options.wsPingMs = pingMs;
  // Values are checked by resolveConfig (a bad one fails the start with a readable message).
  const heartbeatS = numberFlag('heartbeat-s', values['heartbeat-s']);
  if (heartbeatS !== undefined) options.wsHeartbeatS = heartbeatS;
  const ttl = numberFlag('access-ttl-s', values['access-ttl-s']);
  if (ttl !== undefined) options.accessTokenTtlS = ttl;
  if (values.environment) options.environment = values.environment;
  return { json: values.json ?? false, help: values.help ?? false, options };
}

function describeSettings(platform: RunningPlatform): string {
  const s = platform.settings;
  return `${s.tls ? 'https/wss' : 'http/ws'}, heartbeat ${s.wsHeartbeatS} s, event gap ${s.agentThinkMs} ms, cold start ${s.coldStartMs} ms, ` +
    `agent ${s.agentStyle}, frames ${s.frameStyle}, history ${s.historyStyle}, ws pings ${s.wsPingMs ? `every ${s.wsPingMs} ms during runs` : 'off'}`;
}

function printReady(platform: RunningPlatform, json: boolean): void {
  const profiled = platform.profile !== 'default';
  if (json) {
    // The default profile's line is exactly as it always was; another profile names itself.
    write(JSON.stringify({ ready: true, env: platform.env, startMs: platform.startMs, ...(profiled ? { profile: platform.profile, settings: platform.settings } : {}) }));
    return;
  }
  write(`# stagecheck reference platform ${platform.version} (${platform.environment}); stop with Ctrl-C`);
  if (profiled || platform.settings.tls) write(`# profile ${platform.profile}: ${describeSettings(platform)}`);
  for (const [key, value] of Object.entries(platform.env)) write(`${key}=${value}`);
  if (platform.tls) {
    write(`# plain Node trusts the platform's CA only when started with it:`);
    write(`# NODE_EXTRA_CA_CERTS=${platform.tls.caFile}`);
  }
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
