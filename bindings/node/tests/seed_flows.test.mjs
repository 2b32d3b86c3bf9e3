// @ts-check
// Every flow of the seed package's README (@bernierllc/planning-session-core),
// as written there; only the opening of the manager differs (a store
// directory instead of storage implementations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanningSessionManager, SessionRecovery } from 'planning-session-engine';
import { tempDir, ok } from './helpers.mjs';

test('seed README flows, in order', async (t) => {
  /** @type {string[]} */
  const logged = [];
  const logger = {
    /** @param {string} m */ debug: (m) => logged.push(m),
    /** @param {string} m */ info: (m) => logged.push(m),
    /** @param {string} m */ warn: (m) => logged.push(m),
    /** @param {string} m */ error: (m) => logged.push(m),
  };
  const manager = new PlanningSessionManager(`${tempDir()}/store`, {
    auto_version: true, // Auto-create versions on content changes
    logger, // Optional logger for debugging
  });

  await t.test('Quick Start: create', async () => {
    const result = await manager.create({
      title: 'Authentication System Planning',
      description: 'Design OAuth2 implementation',
      repository_path: '/projects/auth-service',
      initial_content: '# Auth System\n\n## Requirements\n...',
    });
    assert.equal(result.success, true);
    if (result.success) {
      assert.match(result.data.id, /^[0-9a-f-]{36}$/);
      assert.equal(result.data.current_version, 1);
      assert.equal(result.data.status, 'active');
    }
    assert.ok(logged.some((m) => m.includes('create ok')), 'the logger saw the operation');
  });

  const created = await manager.create({
    title: 'E-commerce Platform Planning',
    description: 'Design shopping cart and checkout flow',
    repository_path: '/projects/ecommerce',
    repository_url: 'https://github.com/company/ecommerce',
    initial_content: '# Shopping Cart\n\n## Requirements',
    created_by: 'agent:planning-assistant',
    metadata: { priority: 'high' },
  });
  const session = ok(created);
  const sessionId = session.id;

  await t.test('Creating Sessions', () => {
    assert.equal(session.title, 'E-commerce Platform Planning');
    assert.equal(session.repository_url, 'https://github.com/company/ecommerce');
    assert.equal(session.created_by, 'agent:planning-assistant');
    assert.deepEqual(session.metadata, { priority: 'high' });
    assert.ok(session.created_at instanceof Date);
    assert.equal(session.current_version, 1);
  });

  await t.test('Updating Sessions: update creates a new version', async () => {
    const updatedMarkdownContent = '# Shopping Cart\n\n## Requirements\n- Payments\n- Refunds';
    const updateResult = await manager.update(sessionId, {
      content: updatedMarkdownContent,
      change_summary: 'Added payment processing requirements',
      updated_by: 'agent:planning-assistant',
    });
    const updated = ok(updateResult);
    assert.equal(updated.current_version, 2);
    assert.equal(updated.content, updatedMarkdownContent);
    const third = ok(await manager.update(sessionId, {
      content: updatedMarkdownContent + '\n- Invoices',
      change_summary: 'Invoices',
    }));
    assert.equal(third.current_version, 3);
  });

  await t.test('Version History: getVersions, compareVersions(1, 3), restoreVersion(2)', async () => {
    const versions = await manager.getVersions(sessionId);
    const list = ok(versions);
    assert.deepEqual(list.map((v) => `v${v.version_number}: ${v.change_summary}`), [
      'v1: Initial version',
      'v2: Added payment processing requirements',
      'v3: Invoices',
    ]);
    const diff = await manager.compareVersions(sessionId, 1, 3);
    const d = ok(diff);
    assert.equal(d.lines_added, 3);
    assert.equal(d.lines_removed, 0);
    const restored = ok(await manager.restoreVersion(sessionId, 2, 'user:john'));
    assert.equal(restored.current_version, 4);
    assert.equal(restored.content, list[1].content);
    const v4 = ok(await manager.getVersion(sessionId, 4));
    assert.equal(v4.created_by, 'user:john');
  });

  await t.test('Querying Sessions', async () => {
    await manager.create({ title: 'App plan', repository_path: '/projects/app', initial_content: '# App' });
    await manager.create({ title: 'App empty', repository_path: '/projects/app' });
    const active = ok(await manager.findActive());
    assert.equal(active.length, 4);
    const repoSessions = ok(await manager.findByRepository('/projects/auth-service'));
    assert.deepEqual(repoSessions.map((s) => s.title), ['Authentication System Planning']);
    const filtered = ok(await manager.list({
      status: ['active', 'paused'],
      created_after: new Date('2025-01-01'),
      has_content: true,
      repository_path: '/projects/app',
    }));
    assert.deepEqual(filtered.map((s) => s.title), ['App plan']);
  });

  await t.test('Status Management: pause, resume, markConverted, archive', async () => {
    const paused = ok(await manager.pause(sessionId, 'Waiting for stakeholder feedback'));
    assert.equal(paused.status, 'paused');
    assert.equal(paused.pause_reason, 'Waiting for stakeholder feedback');
    assert.ok(paused.paused_at instanceof Date);
    assert.equal(ok(await manager.resume(sessionId)).status, 'active');
    const converted = ok(await manager.markConverted(sessionId, {
      project_id: 'project-123',
      work_item_ids: ['wi-1', 'wi-2', 'wi-3'],
      converted_by: 'agent:work-item-creator',
    }));
    assert.equal(converted.status, 'converted');
    assert.equal(converted.project_id, 'project-123');
    assert.deepEqual(converted.work_item_ids, ['wi-1', 'wi-2', 'wi-3']);
    assert.ok(converted.converted_at instanceof Date);
    const archived = ok(await manager.archive(sessionId));
    assert.equal(archived.status, 'archived');
    assert.ok(archived.archived_at instanceof Date);
  });

  await t.test('Crash Recovery: findStale loop, then restoreFromHistory', async () => {
    // "Inactive for 24+ hours": judged as of 25 hours from now (and 8 days for archive).
    const stale = await SessionRecovery.findStale(manager, { now: new Date(Date.now() + 25 * 3600e3) });
    assert.equal(stale.stale_sessions.length, 3);
    for (const s of stale.stale_sessions) {
      const action = stale.recommendations[s.id];
      assert.equal(action, 'pause');
      if (action === 'pause') {
        ok(await manager.pause(s.id, 'Auto-paused: inactive for 24+ hours'));
      } else if (action === 'archive') {
        ok(await manager.archive(s.id));
      }
    }
    const later = await SessionRecovery.findStale(manager, { now: new Date(Date.now() + 8 * 24 * 3600e3) });
    assert.equal(later.stale_sessions.length, 3);
    assert.ok(Object.values(later.recommendations).every((a) => a === 'archive'));

    const restored = await SessionRecovery.restoreFromHistory(sessionId, manager);
    const s = ok(restored);
    assert.equal(s.status, 'archived');
    assert.equal(s.current_version, 4);
  });

  await t.test('Statistics', async () => {
    const stats = await manager.getStatistics();
    const data = ok(stats);
    assert.equal(data.total_sessions, 4);
    assert.equal(data.active_sessions, 0);
    assert.equal(data.paused_sessions, 3);
    assert.equal(data.converted_sessions, 0);
    assert.equal(data.archived_sessions, 1);
    // versions: 4 + 1 + 1 + 0 over 4 sessions
    assert.equal(data.total_versions, 6);
    assert.equal(data.average_versions_per_session, 1.5);
  });

  await manager.close();
});
