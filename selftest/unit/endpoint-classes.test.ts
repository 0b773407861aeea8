import { describe, expect, it } from 'vitest';
import { DEFAULT_BUDGETS } from '../../helpers/core/budgets.ts';
import { classFailLines, endpointClass, httpBudgetFor, httpBudgetOf } from '../../helpers/core/endpoint-classes.ts';
import { checkBudgetRelations } from '../../helpers/core/config.ts';
import { readKpiThresholds } from '../../helpers/core/kpi-thresholds.ts';

describe('HTTP budgets per class of endpoint', () => {
  it('classes the contract paths: health endpoints, the auth service, the API', () => {
    for (const path of ['/health', '/health/ready', '/api/health', '/ws/health', '/health?verbose=1']) expect(endpointClass(path), path).toBe('health');
    for (const path of ['/auth/login', '/auth/refresh', '/auth/verify', '/auth/logout', '/auth/e2e/test-auth']) expect(endpointClass(path), path).toBe('auth');
    for (const path of ['/api/threads', '/api/threads/:id/messages', '/api/websocket/ticket', '/api/healthz']) expect(endpointClass(path), path).toBe('api');
  });

  it('gives each class its own budget, BUDGET_HTTP_MS keeping the API', () => {
    const deadline = httpBudgetFor({ ...DEFAULT_BUDGETS, httpHealth: 1, httpAuth: 2, httpRequest: 3 });
    expect([deadline('/health/ready'), deadline('/auth/login'), deadline('/api/threads')]).toEqual([1, 2, 3]);
    expect(httpBudgetOf('/ws/health')).toBe('httpHealth');
  });

  it("reads each class's highest failure line from the shipped catalog (auth: login and test-auth at 8 s)", () => {
    expect(classFailLines(readKpiThresholds().endpointFailMs())).toEqual({ httpHealth: 5000, httpAuth: 8000, httpRequest: 5000 });
  });

  it('ships defaults that keep every rule', () => {
    expect(checkBudgetRelations({ ...DEFAULT_BUDGETS })).toEqual([]);
  });

  it('refuses a class budget at or below the failure line it must measure, naming its variable', () => {
    expect(checkBudgetRelations({ ...DEFAULT_BUDGETS, httpAuth: 8000 })).toEqual([expect.stringMatching(/^BUDGET_HTTP_AUTH_MS=8000 must be greater than its KPI threshold 'httpAuth' \(8000 ms\)/)]);
    expect(checkBudgetRelations({ ...DEFAULT_BUDGETS, httpHealth: 5000 })).toEqual([expect.stringMatching(/^BUDGET_HTTP_HEALTH_MS=5000 must be greater than its KPI threshold 'httpHealth' \(5000 ms\)/)]);
  });

  it('refuses a health budget that a cold start would use up', () => {
    expect(checkBudgetRelations({ ...DEFAULT_BUDGETS, coldStart: 7000 })).toEqual([expect.stringMatching(/^BUDGET_HTTP_HEALTH_MS=6000 must be greater than BUDGET_COLD_START_MS=7000: a health probe that is the run's first request waits out the cold start/)]);
  });
});
