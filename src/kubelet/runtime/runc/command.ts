/**
 * Running external programs (runc, CNI plugins, mount, ip) and collecting their output. They
 * are started by the shared {@link ProcessSpawner}, not forked from the agent itself (see
 * spawner.ts for why); a stdin too large for the spawner falls back to Node's own spawn.
 */
import { spawn } from 'node:child_process';
import { CommandError } from '../errors.ts';
import { MAX_STDIN, ProcessSpawner } from './spawner.ts';

/** The process spawner every runtime program goes through. */
export const spawner = new ProcessSpawner();

/** Runs a program to completion, collecting its output. */
export async function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string | Buffer } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (options.stdin === undefined || Buffer.byteLength(options.stdin) <= MAX_STDIN) {
    const { code, stdout, stderr } = await spawner.run(file, args, options);
    return { code, stdout, stderr };
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

/** Runs a program and throws `CommandError` unless it exits 0; returns its stdout. */
export async function runOk(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<string> {
  const r = await run(file, args, options);
  if (r.code !== 0) throw new CommandError(`${file} ${args.join(' ')}`, r.code, r.stderr || r.stdout);
  return r.stdout;
}
