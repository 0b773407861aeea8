import { describe, expect, it } from 'vitest';
import { REDACTED, redactDeep, redactSecrets, redactUrl } from '../../helpers/core/redact.ts';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJlMmUtYWxpY2UiLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLXZhbHVlLWhlcmU';

describe('redactUrl', () => {
  it('removes user and password from any scheme', () => {
    expect(redactUrl('postgres://reader:s3cr3t@db.internal:5432/app')).toBe('postgres://db.internal:5432/app');
    expect(redactUrl('redis://:hunter2@cache:6379/0')).toBe('redis://cache:6379/0');
    expect(redactUrl('https://user:pw@api.example.com/health')).toBe('https://api.example.com/health');
  });

  it('replaces secret query values and keeps the others', () => {
    expect(redactUrl('wss://api.example.com/ws?ticket=abc123&room=7')).toBe(`wss://api.example.com/ws?ticket=${REDACTED}&room=7`);
    expect(redactUrl('https://x.test/a?token=t&api_key=k&key=z&page=2')).toBe(
      `https://x.test/a?token=${REDACTED}&api_key=${REDACTED}&key=${REDACTED}&page=2`,
    );
    expect(redactUrl('https://x.test/cb#access_token=abc&state=1')).toBe(`https://x.test/cb#access_token=${REDACTED}&state=1`);
  });

  it('accepts URL objects and leaves clean URLs untouched', () => {
    expect(redactUrl(new URL('http://127.0.0.1:8080/health?verbose=1'))).toBe('http://127.0.0.1:8080/health?verbose=1');
  });

  it('still strips secrets from a string that is not a URL', () => {
    expect(redactUrl(`not a url Bearer ${JWT}`)).not.toContain(JWT);
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence of each given secret, longest first', () => {
    const out = redactSecrets('key=bypass-123 again bypass-123 and bypass-123-extended', ['bypass-123', 'bypass-123-extended']);
    expect(out).toBe(`key=${REDACTED} again ${REDACTED} and ${REDACTED}`);
  });

  it('replaces the URL-encoded form of a secret', () => {
    expect(redactSecrets('p=a%2Fb%3Dc', ['a/b=c'])).toBe(`p=${REDACTED}`);
  });

  it('ignores empty and missing secrets', () => {
    expect(redactSecrets('plain text', ['', undefined, null])).toBe('plain text');
  });

  it('redacts bearer tokens, jwt subprotocols and JWT-looking blobs without being told', () => {
    expect(redactSecrets(`Authorization: Bearer opaque-token_value.1`)).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactSecrets(`Sec-WebSocket-Protocol: jwt.${JWT}`)).toBe(`Sec-WebSocket-Protocol: jwt.${REDACTED}`);
    expect(redactSecrets(`token was ${JWT} in the log`)).toBe(`token was ${REDACTED} in the log`);
  });

  it('redacts secret JSON fields, secret query parameters, bypass-key headers and URL credentials in free text', () => {
    const body = JSON.stringify({ access_token: 'opaque-a', refresh_token: 'opaque-r', user: { id: 'e2e-x' } });
    const out = redactSecrets(body);
    expect(out).not.toContain('opaque-a');
    expect(out).not.toContain('opaque-r');
    expect(out).toContain('e2e-x');
    expect(redactSecrets('GET /ws?ticket=tk_123&x=1 failed')).toBe(`GET /ws?ticket=${REDACTED}&x=1 failed`);
    expect(redactSecrets('X-E2E-Bypass-Key: sekrit')).toBe(`X-E2E-Bypass-Key: ${REDACTED}`);
    expect(redactSecrets('connect to postgres://u:pw@h:5432/d failed')).toBe('connect to postgres://h:5432/d failed');
  });

  it('leaves ordinary text alone', () => {
    const text = 'GET /health answered 503 after 12 ms (status "unhealthy")';
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('redactDeep', () => {
  it('redacts strings at any depth and values under secret keys', () => {
    const out = redactDeep({ headers: { authorization: 'Bearer x', accept: 'json' }, list: [`t=${JWT}`], n: 3, secret: 'k' }, []);
    expect(out).toEqual({ headers: { authorization: REDACTED, accept: 'json' }, list: [`t=${REDACTED}`], n: 3, secret: REDACTED });
  });
});
