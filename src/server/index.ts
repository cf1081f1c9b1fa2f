/** The single-process server: configuration and start-up of every component. */
export { defaultDataDir, type ServerConfig } from './config.ts';
export { runServer, type RunningServer } from './run-server.ts';
