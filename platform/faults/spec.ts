export interface FaultRequest {
  name: string;
  params: Record<string, string>;
}

/**
 * Parses `pg_slow:ms=500,redis_silent` (PLATFORM_FAULTS, `--fault`). Commas separate faults; a
 * `key=value` segment without a colon continues the previous fault's parameters, so
 * `x:a=1,b=2,y` is x{a,b} and y.
 */
export function parseFaultSpecs(text: string): FaultRequest[] {
  const requests: FaultRequest[] = [];
  for (const raw of text.split(',')) {
    const segment = raw.trim();
    if (!segment) continue;
    const last = requests.at(-1);
    if (!segment.includes(':') && segment.includes('=') && last) {
      addParam(last, segment, text);
      continue;
    }
    const [name = '', rest] = splitOnce(segment, ':');
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`invalid fault name "${name}" in "${text}"`);
    const request: FaultRequest = { name, params: {} };
    if (rest) addParam(request, rest, text);
    requests.push(request);
  }
  return requests;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function addParam(request: FaultRequest, pair: string, whole: string): void {
  const [key, value] = splitOnce(pair, '=');
  if (!key || value === undefined) throw new Error(`invalid fault parameter "${pair}" in "${whole}" (expected key=value)`);
  request.params[key.trim()] = value.trim();
}
