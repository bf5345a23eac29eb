// Start `roster serve --ephemeral` for a Node test run and stop it again: what a Jest or Vitest
// global set-up does (docs/testing.md). ROSTER_BIN names the roster command (default: `roster`
// on PATH).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export async function startRoster(args = ['--tls-self-signed']) {
  const command = process.env.ROSTER_BIN ?? 'roster';
  // stdin stays a pipe: when this process ends, however it ends, roster sees end of file and
  // removes everything it made.
  const child = spawn(command, ['serve', '--ephemeral', ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const [line] = await Promise.race([
    once(lines, 'line'),
    exited.then(([code]) => {
      throw new Error(`roster serve --ephemeral exited with ${code} before it was ready`);
    }),
  ]);
  lines.close();
  const info = JSON.parse(line);
  return {
    info,
    // customerio-node takes the port separately (it drops the one in the URL).
    port: Number(new URL(info.url).port),
    async stop() {
      child.stdin.end();
      const [code] = await exited;
      return code;
    },
  };
}
