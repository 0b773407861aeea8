/**
 * Phase 1, infrastructure health, as one test module on purpose. The checks live per component
 * in ./checks/; importing them here registers their describes in this module, so one worker
 * loads the helper stack once and all phase-1 checks run concurrently. As seven modules, four
 * forks loaded it on two cores before the first probe, which cost more than the probes
 * themselves (measured: docs/performance.md).
 *
 * One component: `--tags-filter redis` (tags, tests/tags.ts); one check: find it by its id in
 * tests/check-ids.ts, or select its describe with `-t` (`titlePattern` there).
 */
// The agent run is the longest check: registered first, it starts first.
import './checks/agent-run.ts';
import './checks/backend-health.ts';
import './checks/auth-service.ts';
import './checks/stores.ts';
import './checks/threads-api.ts';
import './checks/websocket.ts';
import './checks/network-path.ts';
