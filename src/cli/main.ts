/**
 * The `skiff` command: dispatches to a subcommand. Each subcommand lives in its own file.
 */
import { readFileSync } from 'node:fs';
import { imageCommand } from './image-command.ts';
import { agentCommand } from './agent-command.ts';
import { serverCommand } from './server-command.ts';
import { simCommand } from './sim-command.ts';

const USAGE = `Usage: skiff <command> [flags]

Commands:
  server    run a cluster (control plane, and later the embedded node agent)
  agent     join this machine to a cluster as a node
  sim       run simulated nodes against a cluster
  image     manage the node's container images (pull, import, ls, rm)
  version   print the version

Run 'skiff <command> --help' for a command's flags.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `skiff version v${pkg.version} (Kubernetes API v1.32, Node.js ${process.version})`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'server':
      return serverCommand(args);
    case 'sim':
      return simCommand(args);
    case 'image':
      return imageCommand(args);
    case 'agent':
      return agentCommand(args);
    case 'version':
    case '--version':
    case '-v':
      console.log(version());
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      console.error(`skiff: unknown command "${command}"\n`);
      process.stderr.write(USAGE);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`skiff: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
