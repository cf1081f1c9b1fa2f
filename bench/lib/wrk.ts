/**
 * `wrk` as a load generator: a C program that keeps N keep-alive HTTPS connections busy from
 * one thread at a fraction of the CPU a Node client needs, so the server gets more of a shared
 * machine. Requests come from small Lua scripts (below): creates of ConfigMaps with unique
 * names, gets and unconditional updates (no resourceVersion: `wrk` cannot hand each connection
 * the version its last answer carried) cycling over the objects the create phase made.
 * `wrk` does not present a client certificate; Skiff does not ask for one yet.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether `wrk` is on PATH. */
export function haveWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // `wrk --version` prints its usage and exits 1: it is there.
    return (error as { status?: number }).status === 1;
  }
}

/** What one `wrk` run measured. */
export interface WrkResult {
  requests: number;
  seconds: number;
  /** Answers with a status other than 2xx/3xx. */
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

const SCRIPTS = {
  /** POSTs ConfigMaps `cm-<run>-<thread>-<n>` of ~1 KiB once stored. */
  create: `
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args)
  run, ns, n = args[1], args[2], 0
  payload = string.rep("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", 22)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
end
function request()
  n = n + 1
  local body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-' .. run .. '-' .. tid .. '-' .. n ..
    '","labels":{"app":"bench"}},"data":{"payload":"' .. payload .. '"}}'
  return wrk.format("POST", "/api/v1/namespaces/" .. ns .. "/configmaps", nil, body)
end`,
  /** PUTs over cm-<run>-1-2 … cm-<run>-1-<count+1> (wrk spends request 1 of its first thread
   * checking the script, so that name was never created). */
  update: `
function init(args)
  run, ns, count, n = args[1], args[2], tonumber(args[3]), 0
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
end
function request()
  n = n + 1
  local name = 'cm-' .. run .. '-1-' .. ((n % count) + 2)
  local body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"' .. name ..
    '","labels":{"app":"bench"}},"data":{"payload":"' .. string.rep(string.char(65 + n % 26), 800) .. '"}}'
  return wrk.format("PUT", "/api/v1/namespaces/" .. ns .. "/configmaps/" .. name, nil, body)
end`,
  get: `
function init(args)
  run, ns, count, n = args[1], args[2], tonumber(args[3]), 0
  wrk.headers["Accept"] = "application/json"
end
function request()
  n = n + 1
  return wrk.format("GET", "/api/v1/namespaces/" .. ns .. "/configmaps/cm-" .. run .. "-1-" .. ((n % count) + 2))
end`,
};

/** One of the scripts above. */
export type WrkScript = keyof typeof SCRIPTS;

/** Writes the scripts to a temporary directory; `dispose()` removes it. */
export class WrkScripts {
  readonly #dir: string;
  private constructor(dir: string) {
    this.#dir = dir;
  }
  static async create(): Promise<WrkScripts> {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-wrk-'));
    for (const [name, text] of Object.entries(SCRIPTS)) await writeFile(join(dir, `${name}.lua`), text);
    return new WrkScripts(dir);
  }
  path(script: WrkScript): string {
    return join(this.#dir, `${script}.lua`);
  }
  async dispose(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** `16.42ms` → 16.42 (milliseconds). */
function duration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!match) return Number.NaN;
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * scale;
}

/** Parses the report of `wrk --latency`. */
export function parseWrk(output: string): WrkResult {
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  if (!done) throw new Error(`cannot read wrk's report:\n${output}`);
  const latency = /^\s+Latency\s+\S+\s+\S+\s+(\S+)/m.exec(output);
  return {
    requests: Number(done[1]),
    seconds: duration(`${done[2]}${done[3]}`) / 1000,
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? '0') + Number(/Socket errors: .*?timeout (\d+)/.exec(output)?.[1] ?? '0'),
    p50: duration(/^\s+50%\s+(\S+)/m.exec(output)?.[1] ?? ''),
    p99: duration(/^\s+99%\s+(\S+)/m.exec(output)?.[1] ?? ''),
    max: duration(latency?.[1] ?? ''),
  };
}

/** Runs `wrk` (one thread, `connections` connections) for `seconds` against `url`. */
export function runWrk(
  url: string,
  scripts: WrkScripts,
  script: WrkScript,
  options: { connections: number; seconds: number; args: string[] },
): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency', '-s', scripts.path(script), url, '--', ...options.args];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`wrk failed: ${error.message}\n${stderr}`));
      else {
        try {
          resolve(parseWrk(stdout));
        } catch (parseError) {
          reject(parseError as Error);
        }
      }
    });
  });
}
