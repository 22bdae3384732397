import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildClientSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema } from 'graphql';
import { AppUnderTest } from '../support/app-under-test';

describe('schema.gql', () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await AppUnderTest.start();
  });
  afterAll(() => app?.stop());

  it('is exactly the schema the api serves (run `npm run schema` after changing resolvers)', async () => {
    const introspection = await app.graphql(getIntrospectionQuery());
    const served = printSchema(lexicographicSortSchema(buildClientSchema(introspection.data)));
    const committed = readFileSync(join(__dirname, '..', '..', 'schema.gql'), 'utf8');
    expect(`${served}\n`).toBe(committed);
  });

  it('names every operation of API.md implemented so far', () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema.gql'), 'utf8');
    for (const operation of [
      'signUp', 'login', 'refreshSession', 'logout', 'startMfaEnrollment', 'confirmMfaEnrollment', 'me',
      'tenant', 'updateTenant', 'members', 'addMember', 'updateMemberRole', 'removeMember',
      'apiKeys', 'createApiKey', 'rotateApiKey', 'revokeApiKey',
      'createProject', 'projects', 'project', 'updateProject', 'archiveProject',
      'auditEvents', 'verifyAuditChain',
    ]) {
      expect(committed).toMatch(new RegExp(`\\n  ${operation}[(:]`));
    }
  });
});
