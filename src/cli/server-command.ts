import { loadConfig } from '../config.js';
import { startServer } from '../server.js';

/** `minpaas server`: runs the control plane until SIGINT/SIGTERM; the router keeps serving. */
export async function serverCommand(): Promise<number> {
  const config = loadConfig();
  const server = await startServer(config);
  if (server.tokenGenerated) {
    // Printed once, on the start that generated it; later it is only in the token file.
    console.log(`\nMinPaas admin token (saved to ${server.tokenFile}):\n\n  ${server.token}\n`);
    console.log(`Deploy an app:  git remote add minpaas http://x:${server.token}@${config.publicHost}:${server.port}/APP.git`);
    console.log('                git push minpaas main\n');
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
