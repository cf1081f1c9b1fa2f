/**
 * A `skiff server` for one benchmark run, on a temporary data dir that is removed afterwards
 * even when the server failed to start (the test helper leaves its own temporary dir behind then).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, startServer, type TestServer } from '../../test/helpers/cluster.ts';

/** Starts and disposes one benchmark server. */
export class BenchServer {
  #server: TestServer | undefined;
  #dataDir: string | undefined;

  /** Starts the server (SQLite, agent disabled) on a new temporary data dir. */
  async start(): Promise<TestServer> {
    this.#dataDir = await mkdtemp(join(tmpdir(), 'skiff-bench-'));
    this.#server = await startServer({ dataDir: this.#dataDir });
    return this.#server;
  }

  /** Kills the server, if it runs, and removes its data dir. Safe to call more than once. */
  async dispose(): Promise<void> {
    // A graceful stop first, so that a server run with --cpu-prof (NODE_OPTIONS) writes its profile.
    await this.#server?.stop();
    await cleanup(this.#server);
    if (this.#dataDir) await rm(this.#dataDir, { recursive: true, force: true });
  }
}
