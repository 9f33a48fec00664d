import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../errors.js';
import { pod } from '../session/fake-kube.test-util.js';
import { choose, pickChoices } from './pick.js';

describe('--pick', () => {
  const choices = pickChoices([pod('api-1', { containers: [{ name: 'api' }, { name: 'proxy' }] }), pod('gone', { phase: 'Succeeded' }), pod('db-0', { containers: [{ name: 'db' }] })], 'dev');

  it('offers every container of every running pod', () => {
    expect(choices.map((c) => `${c.pod}/${c.container}`)).toEqual(['api-1/api', 'api-1/proxy', 'db-0/db']);
  });

  it('accepts a number, pod/container, or a pod with one container', () => {
    expect(choose(choices, '2')).toMatchObject({ pod: 'api-1', container: 'proxy' });
    expect(choose(choices, 'api-1/api')).toMatchObject({ container: 'api' });
    expect(choose(choices, 'db-0')).toMatchObject({ container: 'db' });
    expect(() => choose(choices, 'api-1')).toThrow(UsageError); // two containers: ambiguous
    expect(() => choose(choices, '9')).toThrow(UsageError);
  });
});
