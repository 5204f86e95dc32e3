#!/usr/bin/env node
import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { registerAdminCommands } from './admin.ts';
import { registerApiCommands } from './api-commands.ts';
import { registerIgloohomeCommands } from './igloohome.ts';
import { registerOfflineCommands } from './offline.ts';

const program = new Command();
program
  .name('latchkey')
  .description('Latchkey: self-hostable, Seam-compatible access codes for smart locks')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the API server (embedded SQLite unless DATABASE_URL says otherwise)')
  .option('--port <port>', 'port (env PORT, default 3000)')
  .option('--host <host>', 'host (env HOST, default 127.0.0.1)')
  .option('--database-url <url>', 'sqlite:<path>, sqlite::memory: or postgres://… (env DATABASE_URL)')
  .action(async (opts) => {
    const config = loadConfig({
      ...process.env,
      ...(opts.port ? { PORT: opts.port } : {}),
      ...(opts.host ? { HOST: opts.host } : {}),
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    });
    // Loaded here, not at the top: the other commands need neither Fastify nor the routes.
    const { startServer, startupBanner } = await import('../app/serve.ts');
    const server = await startServer(config);
    console.log(startupBanner(server));
    const shutdown = async () => {
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });

registerAdminCommands(program);
registerOfflineCommands(program);
registerIgloohomeCommands(program);
registerApiCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`latchkey: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
