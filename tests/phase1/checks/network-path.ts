/**
 * Tier P2: when something is unreachable, say where along the path it breaks (DNS, TCP,
 * TLS or HTTP) instead of "request failed". Also watches certificate expiry.
 */
import { describe, expect, test } from '../../../fixtures/index.ts';
import { assertNetworkPath, checkNetworkPath } from '../../../helpers/transport/network-path.ts';
import type { SuiteConfig } from '../../../helpers/core/config.ts';
import type { Component } from '../../../helpers/core/errors.ts';

/** A certificate closer to expiry than this fails: renewals need lead time. */
const MIN_CERT_DAYS = 7;

const ENDPOINTS: { name: string; component: Component; url: (c: SuiteConfig) => string; path: string }[] = [
  { name: 'backend', component: 'backend', url: (c) => c.baseUrl, path: '/health' },
  { name: 'auth service', component: 'auth', url: (c) => c.authUrl, path: '/health' },
  { name: 'WebSocket host', component: 'websocket', url: (c) => c.wsUrl, path: '/ws/health' },
];

describe('network path', { tags: ['p2', 'network'], concurrent: true }, () => {
  for (const endpoint of ENDPOINTS) {
    test(`reaches the ${endpoint.name} through DNS, TCP, TLS and HTTP`, async ({ config, report }) => {
      const path = await checkNetworkPath(endpoint.url(config), {
        timeoutMs: config.budgets.storeConnect,
        component: endpoint.component,
        path: endpoint.path,
        okStatus: (status) => status === 200,
      });
      for (const layer of path.layers) {
        report.measurements.push({ name: `${endpoint.name} ${layer.layer}`, unit: 'ms', samples: [layer.ms] });
      }
      assertNetworkPath(path);
      const tls = path.layers.find((layer) => layer.layer === 'tls');
      if (tls) {
        expect(tls.detail.daysToExpiry as number, `${endpoint.name} certificate days to expiry`).toBeGreaterThanOrEqual(MIN_CERT_DAYS);
      }
    });
  }
});
