import { type ChildProcess, spawn } from 'node:child_process';

// Real `latchkey serve` processes for tests that need a separate process (restarts, SIGKILL, several
// processes on one Postgres). Every child is tracked so a test can kill whatever it left running.

const repoRoot = new URL('../..', import.meta.url).pathname;

/** The server processes alive now. */
export const children = new Set<ChildProcess>();

export const killAll = (): void => {
  for (const child of children) child.kill('SIGKILL');
};

/** Resolves with the exit code (null when killed by a signal) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
export async function stop(child: ChildProcess, graceMs = 10_000): Promise<number | null> {
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await done;
  clearTimeout(timer);
  return code;
}

/**
 * How long `serve` waits for the child to print its URL. Start-up (tsx compiling the CLI, migrations) takes a
 * few seconds on an idle machine but has taken over 30 s on a loaded one; still bounded so a hung child fails.
 */
export const SERVE_START_TIMEOUT_MS = 90_000;

/**
 * `latchkey serve --port 0` with `env` on top of this process's environment (less the variables a test
 * must set itself); resolves with its URL once it serves. A test hook awaiting it needs a timeout above
 * `startTimeoutMs` for this function's own error (with the child's output) to be the one reported.
 */
export async function serve(
  env: Record<string, string>,
  startTimeoutMs = SERVE_START_TIMEOUT_MS,
): Promise<{ child: ChildProcess; url: string; output: () => { stdout: string; stderr: string } }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['PORT', 'HOST', 'LOG_LEVEL', 'LATCHKEY_MASTER_KEY', 'LATCHKEY_WEBHOOK_ALLOW_PRIVATE']) {
    delete childEnv[name];
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], {
    cwd: repoRoot,
    env: { ...childEnv, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    };
    const timer = setTimeout(
      () => fail(`serve printed no URL within ${startTimeoutMs / 1000} s`),
      startTimeoutMs,
    );
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const found = /serving the Seam-compatible API at (http:\/\/\S+)/.exec(stdout);
      if (found?.[1] && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.once('exit', (code, signal) => fail(`serve exited early (${code ?? signal})`));
  });
  // Everything the process printed so far (the listeners keep collecting after start-up).
  return { child, url, output: () => ({ stdout, stderr }) };
}
