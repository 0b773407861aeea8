/**
 * Tier P1: conversations live in threads; if the backend cannot create, read and delete one,
 * chat is down whatever its health endpoints say.
 */
import { describe, expect, test } from '../../../fixtures/index.ts';
import { CHECK_IDS, DESCRIBES } from '../../check-ids.ts';
import { expectFields } from '../../../helpers/contract/body.ts';
import { runScopedName } from '../../../helpers/core/run-names.ts';
import { expectStatus } from '../../../helpers/contract/http-checks.ts';

describe(DESCRIBES.threadsApi, { tags: ['p1', 'backend', 'postgres'], concurrent: true }, () => {
  test('creates a thread owned by the caller and reads it back', { meta: { checkId: CHECK_IDS.threadCreate } }, async ({ api, threads, identity, config }) => {
    const created = await threads.create('phase1-crud');
    expect(created.title, 'created title').toBe(runScopedName(config.runId, 'phase1-crud'));
    expect(created.user_id, 'thread owner').toBe((await identity.pair()).userId);

    const read = await api.request('GET', `/api/threads/${created.id}`, { auth: true });
    expectStatus(read, 200, 'GET /api/threads/:id', 'backend');
    const body = expectFields(read, 'GET /api/threads/:id', 'backend', { id: 'string', title: 'string', created_at: 'string' });
    expect(body.id, 'read back id').toBe(created.id);
    expect(body.title, 'read back title').toBe(created.title);
  });

  test('deletes a thread with 204 and then answers 404 for it', { meta: { checkId: CHECK_IDS.threadDelete } }, async ({ api, threads }) => {
    const created = await threads.create('phase1-delete');
    const deleted = await api.request('DELETE', `/api/threads/${created.id}`, { auth: true });
    expectStatus(deleted, 204, 'DELETE /api/threads/:id', 'backend');
    const gone = await api.request('GET', `/api/threads/${created.id}`, { auth: true });
    expectStatus(gone, 404, 'GET /api/threads/:id after delete', 'backend');
  });
});
