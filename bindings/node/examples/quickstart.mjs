// @ts-check
// Quick start: the seed package's flows on a crash-safe embedded store.
//   node examples/quickstart.mjs [STORE_DIR]     (default ./.planning)
import { PlanningSessionManager, SessionRecovery } from 'planning-session-engine';

const storeDir = process.argv[2] ?? './.planning';

// One line to open (creating the directory on first use).
const manager = new PlanningSessionManager(storeDir, { auto_version: true, logger: console });

// Signals: every committed event, on this thread, in log order.
manager.on('session_created', (event) => console.log(`event #${event.sequence}: ${event.type} ${event.session_id}`));

const result = await manager.create({
  title: 'E-commerce Platform Planning',
  description: 'Design shopping cart and checkout flow',
  repository_path: '/projects/ecommerce',
  repository_url: 'https://github.com/company/ecommerce',
  initial_content: '# Shopping Cart\n\n## Requirements',
  created_by: 'agent:planning-assistant',
  metadata: { priority: 'high' },
});
if (!result.success) {
  console.error(`create failed: ${result.error.code}: ${result.error.message}`);
  process.exit(1);
}
const sessionId = result.data.id;
console.log('Created session:', sessionId);

// Autosave: each content change is a new version.
const updateResult = await manager.update(sessionId, {
  content: '# Shopping Cart\n\n## Requirements\n- Payments\n- Refunds',
  change_summary: 'Added payment processing requirements',
  updated_by: 'agent:planning-assistant',
});
if (updateResult.success) console.log('New version:', updateResult.data.current_version);

// Version history and diff.
const versions = await manager.getVersions(sessionId);
if (versions.success) for (const version of versions.data) console.log(`v${version.version_number}: ${version.change_summary}`);
const diff = await manager.compareVersions(sessionId, 1, 2);
if (diff.success) console.log(`Lines added: ${diff.data.lines_added}, removed: ${diff.data.lines_removed}`);

// Status management.
await manager.pause(sessionId, 'Waiting for stakeholder feedback');
await manager.resume(sessionId);

// Queries with Date filters.
const filtered = await manager.list({ status: ['active', 'paused'], created_after: new Date('2025-01-01'), has_content: true });
if (filtered.success) console.log('Active or paused sessions with content:', filtered.data.length);

// Stale sessions (inactive for 24+ hours).
const stale = await SessionRecovery.findStale(manager);
console.log(`Found ${stale.stale_sessions.length} stale sessions`);

// Conversion, archive, statistics.
await manager.markConverted(sessionId, { project_id: 'project-123', work_item_ids: ['wi-1', 'wi-2'], converted_by: 'agent:work-item-creator' });
await manager.archive(sessionId);
const stats = await manager.getStatistics();
if (stats.success) console.log(`Total sessions: ${stats.data.total_sessions}, average versions per session: ${stats.data.average_versions_per_session}`);

await manager.close();
