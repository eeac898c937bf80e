import { loadConfig } from '../config.js';
import { startServer } from '../server.js';

/**
 * `minpaas server`: runs the control plane until SIGINT/SIGTERM; the router keeps serving.
 * A stop never waits longer than MINPAAS_DRAIN_TIMEOUT (plus a second): whatever still
 * holds the process then (a build in flight, a client that will not leave) is cut off;
 * the next start marks an interrupted deploy as failed.
 */
export async function serverCommand(): Promise<number> {
  const config = loadConfig();
  const server = await startServer(config);
  if (server.tokenGenerated) printTokenOnce(server.token, server.tokenFile, `http://x:${server.token}@${config.publicHost}:${server.port}/APP.git`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const deadline = setTimeout(() => {
    console.error(`MinPaas: still busy ${Math.round(config.drainTimeoutMs / 1000) + 1} s after the stop signal; exiting anyway`);
    process.exit(1);
  }, config.drainTimeoutMs + 1000);
  deadline.unref();
  // A second signal stops at once.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));
  await server.close();
  clearTimeout(deadline);
  // Closed: a handle a library still holds (an idle keep-alive socket) must not keep the process.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

/**
 * The generated token goes to the terminal once, never into the structured log: when
 * stdout is not a terminal (a service manager, a log file), only where to find it.
 */
function printTokenOnce(token: string, file: string, remote: string): void {
  if (!process.stdout.isTTY) {
    console.log(`MinPaas generated an admin token and saved it to ${file} (mode 0600); it is not printed because stdout is not a terminal.`);
    return;
  }
  console.log(`\nMinPaas admin token (saved to ${file}):\n\n  ${token}\n`);
  console.log(`Deploy an app:  git remote add minpaas ${remote}`);
  console.log('                git push minpaas main\n');
}
