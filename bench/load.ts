// The parent's side of the load generator: forks bench/load-client.js once and hands it one task
// at a time.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadTask } from './load-client.js';

const CLIENT = fileURLToPath(new URL('./load-client.js', import.meta.url));

type Reply = { ok: true; result: LoadResult } | { ok: false; error: string };

export class LoadClient {
  private constructor(private readonly child: ChildProcess) {}

  static start(): LoadClient {
    return new LoadClient(fork(CLIENT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  run(task: LoadTask): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the load client exited (${code}) during a run`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: Reply) => {
        this.child.off('exit', onExit);
        if (reply.ok) resolve(reply.result);
        else reject(new Error(`the load client failed: ${reply.error}`));
      });
      this.child.send(task);
    });
  }

  /** Ends the client: it exits once its channel closes. */
  close(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.disconnect();
    });
  }
}
