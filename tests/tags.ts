/**
 * Every tag a suite test may carry. Vitest runs with strictTags, so a misspelt tag is an
 * error rather than a test silently left out of a `--tags-filter` run.
 * The tag table of docs/configuration.md ("Tags") is this list.
 */
import type { Component } from '../helpers/core/errors.ts';

export type PriorityTag = 'p1' | 'p2' | 'p3' | 'p4' | 'p5' | 'p6';
export type ComponentTag = Component;
export type SuiteTag = PriorityTag | ComponentTag;

interface TagDefinition<T extends SuiteTag> {
  name: T;
  description: string;
}

export const PRIORITY_TAGS: TagDefinition<PriorityTag>[] = [
  { name: 'p1', description: 'P1 critical: protects $120K+ MRR; allowed failure rate 0%' },
  { name: 'p2', description: 'P2 high: protects $80K MRR; allowed failure rate < 5%' },
  { name: 'p3', description: 'P3 medium-high: protects $50K MRR; allowed failure rate < 10%' },
  { name: 'p4', description: 'P4 medium: protects $30K MRR; allowed failure rate < 10%' },
  { name: 'p5', description: 'P5 medium-low: protects $10K MRR; allowed failure rate < 20%' },
  { name: 'p6', description: 'P6 low: protects $5K MRR; allowed failure rate < 20%' },
];

export const COMPONENT_TAGS: TagDefinition<ComponentTag>[] = [
  { name: 'backend', description: 'Backend HTTP API and its health endpoints' },
  { name: 'auth', description: 'Auth service: tokens, refresh, revocation, test-auth' },
  { name: 'websocket', description: 'WebSocket handshake, frames, heartbeats' },
  { name: 'agent', description: 'Agent runs and their five critical events' },
  { name: 'postgres', description: 'PostgreSQL, directly or through the platform' },
  { name: 'redis', description: 'Redis, directly or through the platform' },
  { name: 'network', description: 'Network path: DNS, TCP, TLS, HTTP per endpoint' },
];

export const SUITE_TAGS = [...PRIORITY_TAGS, ...COMPONENT_TAGS];
