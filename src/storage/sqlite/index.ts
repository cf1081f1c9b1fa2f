/** The embedded SQLite driver (the default store). */
export { openSqliteBackend, type SqliteBackendOptions } from './sqlite-backend.ts';
