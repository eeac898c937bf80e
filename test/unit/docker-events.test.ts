import { describe, expect, it } from 'vitest';
import { parseStartEvent } from '../../src/docker/networks.js';

describe("Docker's event stream", () => {
  it('names the container of a start event and ignores anything else', () => {
    expect(parseStartEvent('{"status":"start","id":"ab","Type":"container","Action":"start","Actor":{"ID":"ab","Attributes":{"name":"minpaas-web-v2","minpaas.app":"web"}}}')).toBe('minpaas-web-v2');
    expect(parseStartEvent('{"Type":"container","Action":"die","Actor":{"Attributes":{"name":"minpaas-web-v2"}}}')).toBeNull();
    expect(parseStartEvent('{"Action":"start"}')).toBeNull();
    expect(parseStartEvent('not json')).toBeNull();
  });
});
