/**
 * Bearer tokens at `/api/v1`: verified with jose against an issuer found through its discovery document (a
 * real HTTP server here), tied to the staff directory in a real PostgreSQL. Every refusal is problem+json.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import request from 'supertest';
import { createApp } from '../../api';
import { createBearerAuth, jwksFromIssuer } from '../../api/auth';
import { stringsAt } from '../../api/auth/bearer';
import { addStaff } from '../../engine';
import { silentLogger } from '../../log';
import { Readiness } from '../../runtime/readiness';
import { SettingSchema } from '../../store';
import { freePort } from '../../store/embedded-postgres';
import { useMigratedStore } from '../store/store-fixture';

const AUDIENCE = 'throughcare-api';

describe('bearer authentication of /api/v1', () => {
  const db = useMigratedStore('bearer_auth');
  let issuerServer: http.Server;
  let issuer: string;
  let signingKey: KeyLike;
  let otherKey: KeyLike;

  const app = (options: { rolesClaim?: string; issuerUrl?: string } = {}) =>
    createApp({
      readiness: new Readiness(),
      logger: silentLogger,
      api: () => ({
        store: db.store,
        authenticate: createBearerAuth({
          issuer,
          audience: AUDIENCE,
          jwks: jwksFromIssuer(options.issuerUrl ?? issuer, { timeoutMs: 1_000 }),
          store: db.store,
          ...(options.rolesClaim ? { rolesClaim: options.rolesClaim } : {}),
        }),
      }),
    });

  const token = (
    claims: Record<string, unknown>,
    options: { subject?: string; audience?: string; issuer?: string; expiresIn?: number; key?: KeyLike } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: options.key === otherKey ? 'other' : 'current' })
      .setIssuer(options.issuer ?? issuer)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject(options.subject ?? 'mailto:sam.patel@nhs.test')
      .setIssuedAt(now - 120)
      .setExpirationTime(now + (options.expiresIn ?? 600))
      .sign(options.key ?? signingKey);
  };

  const whoami = (bearer: string, target = app()) =>
    request(target).get('/api/v1/whoami').set('Authorization', `Bearer ${bearer}`);

  beforeAll(async () => {
    const current = await generateKeyPair('RS256');
    signingKey = current.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk: JWK = { ...(await exportJWK(current.publicKey)), kid: 'current', alg: 'RS256', use: 'sig' };
    // An OpenID Connect issuer as far as discovery goes: its configuration and its keys, over real HTTP.
    issuerServer = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/realms/nhs/.well-known/openid-configuration')
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }));
      else if (req.url === '/realms/nhs/keys') res.end(JSON.stringify({ keys: [jwk] }));
      else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}/realms/nhs`;

    const em = db.store.fork();
    em.create(SettingSchema, {
      odsCode: 'XPRS01',
      name: 'Prison',
      kind: 'prison',
      prisonType: 'HMP',
      createdAt: new Date(),
    });
    em.create(SettingSchema, {
      odsCode: 'XCOM01',
      name: 'Community service',
      kind: 'community_service',
      prisonType: null,
      createdAt: new Date(),
    });
    await em.flush();
    await addStaff(db.store, {
      name: 'Sam Patel',
      email: 'sam.patel@nhs.test',
      duties: [],
      roles: ['clinician', 'team-lead'],
      settings: ['XPRS01', 'XCOM01'],
    });
    await addStaff(db.store, {
      name: 'Former Colleague',
      email: 'former@nhs.test',
      duties: [],
      settings: ['XPRS01'],
    });
    await db.store.orm.em
      .getConnection()
      .getKnex()('staff')
      .where({ subject: 'mailto:former@nhs.test' })
      .update({ active: false });
  });

  afterAll(async () => {
    await new Promise((resolve) => issuerServer.close(resolve));
  });

  it('accepts a valid token and names the member of staff, their roles and settings from the directory', async () => {
    const res = await whoami(await token({}));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      subject: 'mailto:sam.patel@nhs.test',
      staffId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Sam Patel',
      roles: ['clinician', 'team-lead'],
      settings: ['XCOM01', 'XPRS01'],
    });
  });

  it('lets a token narrow the roles and settings the directory holds, never widen them', async () => {
    const res = await whoami(await token({ roles: ['clinician', 'admin'], settings: ['xprs01', 'XCUS01'] }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ roles: ['clinician'], settings: ['XPRS01'] });
  });

  it('reads roles from the configured claim, a dotted path reaching a nested one', async () => {
    const res = await whoami(
      await token({ realm_access: { roles: ['team-lead', 'offline_access'] } }),
      app({ rolesClaim: 'realm_access.roles' }),
    );
    expect(res.body.roles).toEqual(['team-lead']);
    expect(stringsAt({ scope: 'a b,c' }, 'scope')).toEqual(['a', 'b', 'c']);
    expect(stringsAt({}, 'roles')).toBeUndefined();
  });

  it.each([
    ['expired', () => token({}, { expiresIn: -60 }), /has expired/],
    ['for another audience', () => token({}, { audience: 'another-api' }), /wrong audience/],
    ['from another issuer', () => token({}, { issuer: 'https://elsewhere.example/realms/nhs' }), /another issuer/],
    ['signed by another key', () => token({}, { key: otherKey }), /not signed by the sign-in service/],
    [
      'signed with a shared secret',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(issuer)
          .setAudience(AUDIENCE)
          .setSubject('mailto:sam.patel@nhs.test')
          .setExpirationTime('10m')
          .sign(new TextEncoder().encode('a shared secret of at least thirty-two bytes')),
      /algorithm this API does not accept/,
    ],
    ['not a JWT', () => Promise.resolve('not.a.jwt'), /malformed/],
  ])('answers 401 problem+json for a token %s', async (_case, make, detail) => {
    const res = await whoami(await make());
    expect(res.status).toBe(401);
    expect(res.type).toBe('application/problem+json');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="throughcare", error="invalid_token"/);
    expect(res.body).toMatchObject({ status: 401, title: 'Sign in required', instance: '/api/v1/whoami' });
    expect(res.body.detail).toMatch(detail);
  });

  it('answers 401 asking for a token when there is none', async () => {
    for (const authorization of [undefined, 'Basic dXNlcjpwYXNz']) {
      const req = request(app()).get('/api/v1/whoami');
      const res = await (authorization ? req.set('Authorization', authorization) : req);
      expect(res.status).toBe(401);
      expect(res.type).toBe('application/problem+json');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="throughcare"');
    }
  });

  it('answers 403 problem+json for someone the directory does not know, or has made inactive', async () => {
    const unknown = await whoami(await token({}, { subject: 'mailto:stranger@nhs.test' }));
    expect(unknown.status).toBe(403);
    expect(unknown.type).toBe('application/problem+json');
    expect(unknown.body.detail).toMatch(/not in the Throughcare staff directory/);
    const inactive = await whoami(await token({ roles: ['clinician'] }, { subject: 'mailto:former@nhs.test' }));
    expect(inactive.status).toBe(403);
    expect(inactive.body.detail).toMatch(/inactive/);
  });

  it('answers 503 problem+json when the issuer cannot be reached, and keeps /health open', async () => {
    const target = app({ issuerUrl: `http://127.0.0.1:${await freePort()}/realms/nhs` });
    const res = await whoami(await token({}), target);
    expect(res.status).toBe(503);
    expect(res.type).toBe('application/problem+json');
    expect((await request(target).get('/health')).status).toBe(200);
  });

  it('answers 503 for /api/v1 while the API is still starting', async () => {
    const res = await request(createApp({ readiness: new Readiness(), logger: silentLogger, api: () => undefined }))
      .get('/api/v1/whoami')
      .set('Authorization', `Bearer ${await token({})}`);
    expect(res.status).toBe(503);
    expect(res.type).toBe('application/problem+json');
  });
});
