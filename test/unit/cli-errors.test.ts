import { describe, expect, it } from 'vitest';
import { errorCodeLine, errorFromBody } from '../../src/cli/client.js';

describe('the CLI shows API error codes where they help', () => {
  it('an internal error names its request id, never more', () => {
    const err = errorFromBody(500, JSON.stringify({ error: 'internal error; the server log has the details (request abc)', code: 'INTERNAL', requestId: 'abc' }));
    expect(err).toMatchObject({ status: 500, code: 'INTERNAL', requestId: 'abc' });
    expect(errorCodeLine(err)).toBe('(INTERNAL; request id abc in the server log)');
  });

  it('conflicts and failed deploys show their code; a missing app or bad input only its message', () => {
    expect(errorCodeLine(errorFromBody(409, JSON.stringify({ error: 'a deploy of web is running', code: 'DEPLOY_IN_PROGRESS' })))).toBe('(DEPLOY_IN_PROGRESS)');
    expect(errorCodeLine(errorFromBody(422, JSON.stringify({ error: 'health check failed', code: 'HEALTH_CHECK_FAILED', details: ['x'] })))).toBe('(HEALTH_CHECK_FAILED)');
    expect(errorCodeLine(errorFromBody(404, JSON.stringify({ error: 'no app named x', code: 'NOT_FOUND' })))).toBeNull();
    // An older server without codes: just the message.
    const old = errorFromBody(409, JSON.stringify({ error: 'busy' }));
    expect(old.code).toBeUndefined();
    expect(errorCodeLine(old)).toBeNull();
  });
});
