import { randomBytes } from 'node:crypto';
import { Actor, login, PASSWORD, signUpOwner } from '../support/actors';
import { AppUnderTest } from '../support/app-under-test';
import { createProject, uploadCsvDataset } from '../support/datasets';
import { totp } from '../support/totp';

/**
 * Retiring a master key, as an operator does it (docs/DEPLOYMENT.md): put a new key first in
 * MASTER_KEYS and keep the old one; at start the api re-wraps every tenant key under the new key,
 * and TOTP secrets move at their next use; then the old key leaves the ring and nothing is lost.
 */
const OLD = `old:${randomBytes(32).toString('base64')}`;
const NEW = `new:${randomBytes(32).toString('base64')}`;
const ROTATE = 'mutation { rotateTenantKey { generation } }';
const VERIFY = '{ verifyAuditChain { valid checkedCount } }';

jest.setTimeout(180_000);

describe('retiring a master key', () => {
  let app: AppUnderTest;
  let hospital: Actor;
  let bank: Actor;
  let versionId: string;
  let contentBefore: Buffer;
  let pseudonymBefore: string;
  let projectId: string;
  let totpSecret: string;
  let lastTimeStep: number;

  const as = (actor: Actor) => ({ token: actor.token, tenantId: actor.tenantId });
  const download = async (actor: Actor, id: string) => {
    const response = await app.fetch(`/v1/dataset-versions/${id}/content`, as(actor));
    return { status: response.status, content: Buffer.from(await response.arrayBuffer()) };
  };
  const masterKeysInUse = async () =>
    (await app.ownerQuery<{ master_key_id: string; n: number }>(`SELECT master_key_id, count(*)::int AS n FROM tenant_keys GROUP BY 1 ORDER BY 1`)).map((r) => `${r.master_key_id}:${r.n}`);
  /** A login code for a time step after `lastTimeStep`, waiting for the clock if it has to. */
  const freshCode = async () => {
    while (Math.floor((Date.now() / 1000 + 30) / 30) <= lastTimeStep) await new Promise((r) => setTimeout(r, 500));
    const at = Math.floor(Date.now() / 1000) + 30;
    lastTimeStep = Math.floor(at / 30);
    return totp(totpSecret, at);
  };

  beforeAll(async () => {
    app = await AppUnderTest.start({ MASTER_KEYS: OLD });
    hospital = await signUpOwner(app, 'hospital');
    bank = await signUpOwner(app, 'bank');
    projectId = await createProject(app, hospital);
    const uploaded = await uploadCsvDataset(app, hospital, projectId, 'patient,age\nMARIE DUPONT,42\nJEAN MARTIN,57\n', { piiColumns: ['patient'] });
    versionId = uploaded.versionId;
    contentBefore = (await download(hospital, versionId)).content;
    pseudonymBefore = contentBefore.toString().split('\n')[1].split(',')[0];
    expect((await app.graphql(ROTATE, {}, as(hospital))).data.rotateTenantKey.generation).toBe(2);
    await uploadCsvDataset(app, bank, await createProject(app, bank), 'a,b\n1,2\n');

    const enrollment = await app.graphql('mutation { startMfaEnrollment { secret } }', {}, as(hospital));
    totpSecret = enrollment.data.startMfaEnrollment.secret;
    const code = totp(totpSecret);
    lastTimeStep = Math.floor(Date.now() / 1000 / 30);
    expect((await app.graphql('mutation($c: String!) { confirmMfaEnrollment(code: $c) }', { c: code }, as(hospital))).data.confirmMfaEnrollment).toBe(true);
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('starts with every tenant key and TOTP secret under the old master key', async () => {
    // Hospital: encryption generations 1 and 2 and the pseudonymisation key; bank: two keys.
    expect(await masterKeysInUse()).toEqual(['old:5']);
    const [user] = await app.ownerQuery<{ sealed: string }>(`SELECT mfa_secret_enc AS sealed FROM users WHERE id = $1`, [hospital.userId]);
    expect(user.sealed.startsWith('v1.old.')).toBe(true);
  });

  it('re-wraps every tenant key under the new active key at start, audited per tenant', async () => {
    await app.restart({ MASTER_KEYS: `${NEW},${OLD}` });
    const deadline = Date.now() + 30_000;
    while ((await masterKeysInUse()).join() !== 'new:5' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await masterKeysInUse()).toEqual(['new:5']);

    // The run at start and a scheduled run may share a tenant's keys between them: add them up.
    const audits = await app.ownerQuery<{ tenant_id: string; details: any }>(`SELECT tenant_id, details FROM audit_events WHERE action = 'tenant.master_key_rewrap'`);
    const movedByTenant = new Map<string, number>();
    for (const { tenant_id: tenantId, details } of audits) {
      expect(details).toMatchObject({ toMasterKeyId: 'new', fromMasterKeyIds: { old: details.keys } });
      movedByTenant.set(tenantId, (movedByTenant.get(tenantId) ?? 0) + details.keys);
    }
    expect(Object.fromEntries(movedByTenant)).toEqual({ [hospital.tenantId]: 3, [bank.tenantId]: 2 });
    const chain = await app.graphql(VERIFY, {}, as(hospital));
    expect(chain.data.verifyAuditChain.valid).toBe(true);
    // The key material itself is unchanged: content written before still reads back identically.
    expect((await download(hospital, versionId)).content.equals(contentBefore)).toBe(true);
  });

  it('moves a TOTP secret to the new key at its next successful use', async () => {
    const signedIn = await login(app, hospital.email, PASSWORD, await freshCode());
    expect(signedIn.data?.login.accessToken).toBeTruthy();
    const [user] = await app.ownerQuery<{ sealed: string }>(`SELECT mfa_secret_enc AS sealed FROM users WHERE id = $1`, [hospital.userId]);
    expect(user.sealed.startsWith('v1.new.')).toBe(true);
  });

  it('keeps everything working once the old key has left the ring', async () => {
    await app.restart({ MASTER_KEYS: NEW });
    const signedIn = await login(app, hospital.email, PASSWORD, await freshCode());
    expect(signedIn.data?.login.accessToken).toBeTruthy();
    hospital = { ...hospital, token: signedIn.data.login.accessToken };

    expect((await download(hospital, versionId)).content.equals(contentBefore)).toBe(true);
    // Same pseudonymisation key: the same person gets the same pseudonym as before the change.
    const again = await uploadCsvDataset(app, hospital, projectId, 'patient,age\nMARIE DUPONT,43\n', { piiColumns: ['patient'] });
    expect((await download(hospital, again.versionId)).content.toString().split('\n')[1].split(',')[0]).toBe(pseudonymBefore);
    expect(await masterKeysInUse()).toEqual(['new:5']);
    expect(app.logs.join('')).not.toContain(OLD.split(':')[1]);
    expect(app.logs.join('')).not.toContain(NEW.split(':')[1]);
  });
});
