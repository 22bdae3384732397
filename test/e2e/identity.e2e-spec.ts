import { totp } from '../support/totp';
import { AppUnderTest, codeOf } from '../support/app-under-test';
import { login, PASSWORD, signUpOwner, uniqueEmail } from '../support/actors';

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken user { id email } } }`;
const REFRESH = `mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }`;

describe('identity: sign-up, login, refresh rotation, logout, MFA', () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await AppUnderTest.start({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '1000' });
  });
  afterAll(() => app?.stop());

  it('signs up, returns tokens, and `me` lists the OWNER membership', async () => {
    const owner = await signUpOwner(app, 'alice', 'CHU de Lyon');
    const me = await app.graphql('{ me { user { email mfaEnabled } memberships { role tenant { id name slug } } } }', {}, { token: owner.token });
    expect(me.data.me.user).toEqual({ email: owner.email, mfaEnabled: false });
    expect(me.data.me.memberships).toEqual([{ role: 'OWNER', tenant: { id: owner.tenantId, name: 'CHU de Lyon', slug: expect.stringMatching(/^chu-de-lyon-[0-9a-f]{6}$/) } }]);
  });

  it('refuses a weak password and a malformed email, naming each field, and stores nothing', async () => {
    const email = uniqueEmail('weak');
    const response = await app.graphql(SIGN_UP, { input: { email: 'not-an-email', password: 'short', displayName: 'x', tenantName: 'Acme' } });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(response.errors![0].extensions!.fields!.map((f) => f.field).sort()).toEqual(['email', 'password']);
    const weak = await app.graphql(SIGN_UP, { input: { email, password: 'aaaaaaaaaaaaaaa', displayName: 'x', tenantName: 'Acme' } });
    expect(codeOf(weak)).toBe('BAD_USER_INPUT');
    const users = await app.ownerQuery('SELECT count(*)::int AS n FROM users WHERE email_normalized = $1', [email]);
    expect(users[0].n).toBe(0);
  });

  it('refuses a duplicate email with CONFLICT and creates no second tenant', async () => {
    const owner = await signUpOwner(app, 'dup');
    const before = await app.ownerQuery('SELECT count(*)::int AS n FROM tenants');
    const again = await app.graphql(SIGN_UP, { input: { email: owner.email.toUpperCase(), password: PASSWORD, displayName: 'x', tenantName: 'Another' } });
    expect(codeOf(again)).toBe('CONFLICT');
    const after = await app.ownerQuery('SELECT count(*)::int AS n FROM tenants');
    expect(after[0].n).toBe(before[0].n);
  });

  it('answers wrong credentials with the same UNAUTHENTICATED message whether or not the email exists', async () => {
    const owner = await signUpOwner(app, 'bob');
    const wrongPassword = await login(app, owner.email, 'wrong password here!');
    const unknownEmail = await login(app, uniqueEmail('nobody'), 'wrong password here!');
    expect(codeOf(wrongPassword)).toBe('UNAUTHENTICATED');
    expect(codeOf(unknownEmail)).toBe('UNAUTHENTICATED');
    expect(wrongPassword.errors![0].message).toBe(unknownEmail.errors![0].message);
  });

  it('rate-limits failed logins per account, even with the right password afterwards', async () => {
    const owner = await signUpOwner(app, 'carol');
    for (let i = 0; i < 3; i++) expect(codeOf(await login(app, owner.email, 'wrong password here!'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await login(app, owner.email))).toBe('RATE_LIMITED');
    const failures = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND action = 'auth.login' AND outcome = 'FAILURE'`, [owner.tenantId]);
    expect(failures[0].n).toBe(3);
  });

  it('rotates refresh tokens; reusing an old one revokes the whole family', async () => {
    const owner = await signUpOwner(app, 'dave');
    const first = await app.graphql(REFRESH, { t: owner.refreshToken });
    expect(first.data.refreshSession.refreshToken).not.toBe(owner.refreshToken);
    const reused = await app.graphql(REFRESH, { t: owner.refreshToken });
    expect(codeOf(reused)).toBe('UNAUTHENTICATED');
    // The token issued by the legitimate rotation dies with its family, and so do access tokens.
    expect(codeOf(await app.graphql(REFRESH, { t: first.data.refreshSession.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await app.graphql('{ me { user { id } } }', {}, { token: first.data.refreshSession.accessToken }))).toBe('UNAUTHENTICATED');
    const sessions = await app.ownerQuery(`SELECT revoked_reason FROM sessions WHERE user_id = $1`, [owner.userId]);
    expect(sessions).toEqual([{ revoked_reason: 'refresh_token_reused' }]);
    const tokens = await app.ownerQuery(`SELECT count(*)::int AS n FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE s.user_id = $1`, [owner.userId]);
    expect(tokens[0].n).toBe(2);
  });

  it('logout ends the session: its access and refresh tokens stop working', async () => {
    const owner = await signUpOwner(app, 'erin');
    expect((await app.graphql('mutation($t: String!) { logout(refreshToken: $t) }', { t: owner.refreshToken })).data.logout).toBe(true);
    expect(codeOf(await app.graphql('{ me { user { id } } }', {}, { token: owner.token }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await app.graphql(REFRESH, { t: owner.refreshToken }))).toBe('UNAUTHENTICATED');
  });

  it('enrolls TOTP; login then needs a code, and a code cannot be replayed', async () => {
    const owner = await signUpOwner(app, 'frank');
    const enrollment = await app.graphql('mutation { startMfaEnrollment { secret otpauthUri } }', {}, { token: owner.token });
    const { secret, otpauthUri } = enrollment.data.startMfaEnrollment;
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Lutece/);
    const wrong = await app.graphql('mutation($c: String!) { confirmMfaEnrollment(code: $c) }', { c: '000000' }, { token: owner.token });
    expect(codeOf(wrong)).toBe('BAD_USER_INPUT');
    const code = totp(secret);
    const confirmed = await app.graphql('mutation($c: String!) { confirmMfaEnrollment(code: $c) }', { c: code }, { token: owner.token });
    expect(confirmed.data.confirmMfaEnrollment).toBe(true);

    expect(codeOf(await login(app, owner.email))).toBe('MFA_REQUIRED');
    // The code used to confirm enrollment is spent: it cannot open a session.
    expect(codeOf(await login(app, owner.email, PASSWORD, code))).toBe('MFA_REQUIRED');
    const nextStepCode = totp(secret, Math.floor(Date.now() / 1000) + 30);
    const ok = await login(app, owner.email, PASSWORD, nextStepCode);
    expect(ok.data.login.accessToken).toBeTruthy();
    expect(codeOf(await login(app, owner.email, PASSWORD, nextStepCode))).toBe('MFA_REQUIRED');
  });

  it('never writes passwords, tokens or TOTP secrets to the logs', async () => {
    const owner = await signUpOwner(app, 'gina');
    await login(app, owner.email);
    await app.graphql(REFRESH, { t: owner.refreshToken });
    const logs = app.logs.join('');
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(owner.token);
    expect(logs).not.toContain(owner.refreshToken);
  });
});
