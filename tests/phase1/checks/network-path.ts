/**
 * Tier P2: when something is unreachable, say where along the path it breaks (DNS, TCP,
 * TLS or HTTP, and the proxy hop when one is configured) instead of "request failed". Also
 * watches certificate expiry: within 14 days of it the check is DEGRADED, naming the date.
 */
import { describe, test } from '../../../fixtures/index.ts';
import { failIfNeededComponentDown } from '../../../fixtures/api.ts';
import { CHECK_IDS, DESCRIBES, type CheckId } from '../../check-ids.ts';
import { assertNetworkPath, checkNetworkPath } from '../../../helpers/transport/network-path.ts';
import type { SuiteConfig } from '../../../helpers/core/config.ts';
import { httpBudgetFor } from '../../../helpers/core/endpoint-classes.ts';
import type { Component } from '../../../helpers/core/errors.ts';

const ENDPOINTS: { name: string; checkId: CheckId; component: Component; url: (c: SuiteConfig) => string; path: string }[] = [
  { name: 'backend', checkId: CHECK_IDS.networkBackend, component: 'backend', url: (c) => c.baseUrl, path: '/health' },
  { name: 'auth service', checkId: CHECK_IDS.networkAuth, component: 'auth', url: (c) => c.authUrl, path: '/health' },
  { name: 'WebSocket host', checkId: CHECK_IDS.networkWs, component: 'websocket', url: (c) => c.wsUrl, path: '/ws/health' },
];

describe(DESCRIBES.networkPath, { tags: ['p2', 'network'], concurrent: true }, () => {
  for (const endpoint of ENDPOINTS) {
    test(`reaches the ${endpoint.name} through DNS, TCP, TLS and HTTP`, { meta: { checkId: endpoint.checkId } }, async ({ config, report }) => {
      // A component already confirmed down is that cause, at once (its tag is 'network', not the component's).
      failIfNeededComponentDown(config, [endpoint.component]);
      const path = await checkNetworkPath(endpoint.url(config), {
        timeoutMs: config.budgets.storeConnect,
        // The first request may wait on a cold start; the health class's budget covers it.
        httpTimeoutMs: httpBudgetFor(config.budgets)(endpoint.path),
        component: endpoint.component,
        path: endpoint.path,
        okStatus: (status) => status === 200,
      });
      for (const layer of path.layers) {
        report.measurements.push({ name: `${endpoint.name} ${layer.layer}`, unit: 'ms', samples: [layer.ms] });
      }
      // An untrusted, expired or wrongly named certificate fails here at layer tls (the fix named);
      // one expiring within 14 days works, so it is DEGRADED with its date and blocks nothing.
      assertNetworkPath(path);
      if (path.degraded.length > 0) (report.degraded ??= []).push(...path.degraded);
    });
  }
});
