// Run by bench.mjs in its own process: 100 concurrent appendToStream calls
// (to 10 streams) on one Emmett SQLite event store file. Prints how many
// succeeded, were rejected, or failed outside their promise (errors Emmett
// leaves unhandled), as JSON.
import { getSQLiteEventStore } from '@event-driven-io/emmett-sqlite';

const fileName = process.argv[2];
const store = getSQLiteEventStore({ fileName });
let uncaught = 0;
process.on('uncaughtException', () => uncaught++);
process.on('unhandledRejection', () => uncaught++);
const log = console.log;
console.log = () => {}; // Emmett logs every failed transaction
for (let i = 0; i < 10; i++) await store.appendToStream(`planning_session-${i}`, [{ type: 'SessionCreated', data: { title: `s${i}` } }]);
const settled = await Promise.allSettled(
  Array.from({ length: 100 }, (_, i) => store.appendToStream(`planning_session-${i % 10}`, [{ type: 'SessionUpdated', data: { content: `c${i}` } }])),
);
await new Promise((resolve) => setTimeout(resolve, 500));
log(JSON.stringify({
  fulfilled: settled.filter((s) => s.status === 'fulfilled').length,
  rejected: settled.filter((s) => s.status === 'rejected').length,
  uncaught,
}));
process.exit(0);
