import { randomUUID } from 'node:crypto';
import { apiKeyWithRole, signUpOwner } from '../support/actors';
import { AppUnderTest } from '../support/app-under-test';
it('probe', async () => {
  const app = await AppUnderTest.start();
  try {
    const A = await signUpOwner(app, 'a'); const B = await signUpOwner(app, 'b');
    const k = await apiKeyWithRole(app, B, 'OWNER');
    console.log(JSON.stringify(await app.graphql('{ tenant { id } }', {}, { token: B.token, tenantId: A.tenantId })));
    console.log(JSON.stringify(await app.graphql('{ tenant { id } }', {}, { token: k.secret, tenantId: A.tenantId })), B.tenantId);
    console.log(JSON.stringify(await app.graphql('query($id: ID!) { project(id: $id) { id } }', { id: randomUUID() }, { token: B.token })));
    const c = await app.appRoleClient();
    await c.query('BEGIN'); await c.query(`SELECT set_config('app.tenant_id', $1, true)`, [B.tenantId]);
    console.log('sessions visible to lutece_app with tenant B:', (await c.query('SELECT user_id FROM sessions')).rows.length, 'A user', A.userId);
    console.log('refresh_tokens visible:', (await c.query('SELECT count(*) FROM refresh_tokens')).rows);
    await c.query('ROLLBACK'); await c.end();
  } finally { await app.stop(); }
});
