import { describe, expect, it } from 'vitest';
import { certificateCell } from '../../src/cli/commands/domains.js';

describe('certificateCell', () => {
  const base = { source: null, expiresAt: null, error: null, nextRetryAt: null };
  it('says issued with the source and expiry, pending, and failed with the error and the retry', () => {
    expect(certificateCell({ ...base, status: 'issued', source: 'acme', expiresAt: '2027-01-01T00:00:00.000Z' })).toBe('issued (acme) until 2027-01-01T00:00:00.000Z');
    expect(certificateCell({ ...base, status: 'pending' })).toBe('pending');
    expect(certificateCell({ ...base, status: 'failed', error: 'DNS problem', nextRetryAt: '2027-01-01T00:05:00.000Z' })).toBe('failed: DNS problem (retry at 2027-01-01T00:05:00.000Z)');
  });

  it('shows a failed renewal next to the certificate that still serves', () => {
    expect(certificateCell({ status: 'issued', source: 'acme', expiresAt: 'E', error: 'timeout', nextRetryAt: 'R' })).toBe('issued (acme) until E; renewal failed: timeout (retry at R)');
  });
});
