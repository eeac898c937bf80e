import { errorMessage } from '../errors.js';
import { serverCommand } from './server-command.js';

const USAGE = `Usage: minpaas <command>

  server        start the control plane (git remote + admin API)
`;

export async function runCli(argv: string[]): Promise<number> {
  const [command] = argv;
  try {
    switch (command) {
      case 'server':
        return await serverCommand();
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return 0;
      default:
        console.error(`minpaas: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    console.error(`minpaas: ${errorMessage(err)}`);
    return 1;
  }
}
