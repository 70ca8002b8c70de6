/**
 * The `socialflow` command line, beside `serve`: thin commands over the services, talking to
 * the store the server uses (same environment variables).
 */
import { pino } from 'pino';
import type { Config } from '../config.js';
import { createKey, createWorkspace } from '../services/keys.js';
import { openStore } from '../store/open.js';
import { listen } from './listen.js';

const USAGE = `Usage: socialflow <command>

  serve [--role all|api|worker]   run the API and/or the delivery worker (default: all)
  keys create [--workspace ID]    create a workspace with a new API key, or a new key for ID
  listen [--port 9000] [--secret whsec_…] [--status 200]
                                  a local receiver that prints deliveries and checks signatures
  help                            show this text

Settings come from environment variables; see docs/configuration.md.
`;

export async function runCommand(command: string, args: string[], config: Config): Promise<number> {
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === 'listen') {
    const port = Number(flag(args, '--port') ?? 9000);
    const status = Number(flag(args, '--status') ?? 200);
    if (!Number.isInteger(port) || !Number.isInteger(status) || status < 200 || status > 599) {
      process.stderr.write('--port must be a port number and --status an HTTP status from 200 to 599\n');
      return 2;
    }
    await listen({ port, status, secret: flag(args, '--secret') });
    return 0; // the listening server keeps the process running until Ctrl+C
  }
  if (command === 'keys' && args[0] === 'create') {
    const store = await openStore(config, pino({ level: 'warn' }));
    try {
      const now = Date.now();
      if (args.includes('--workspace')) {
        const workspaceId = flag(args, '--workspace');
        if (!workspaceId) {
          process.stderr.write('--workspace needs an id\n');
          return 2;
        }
        const created = await createKey(store, workspaceId, now).catch(() => undefined);
        if (!created) {
          process.stderr.write(`No workspace ${workspaceId} in this store.\n`);
          return 2;
        }
        const { key } = created;
        process.stdout.write(`New API key for ${workspaceId} (shown only now):\n${key}\n`);
      } else {
        const { workspaceId, key } = await createWorkspace(store, 'Workspace', now);
        process.stdout.write(`Created workspace ${workspaceId}. Its API key (shown only now):\n${key}\n`);
      }
      return 0;
    } finally {
      await store.close();
    }
  }
  process.stderr.write(`Unknown command "${[command, ...args].join(' ')}".\n\n${USAGE}`);
  return 2;
}

/** The value after `--name` in the arguments, if any. */
function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
