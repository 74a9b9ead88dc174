import request from 'supertest';
import { silentLogger } from '../log';
import { Readiness } from '../runtime/readiness';
import { createApp } from './app';

function appWith(readiness = new Readiness()) {
  return createApp({ readiness, logger: silentLogger });
}

describe('GET /health', () => {
  it('answers 200 while dependencies are still starting', async () => {
    const readiness = new Readiness();
    readiness.declare('database', true);
    const res = await request(appWith(readiness)).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe('GET /ready', () => {
  it('answers 503 and shows each dependency while one is starting', async () => {
    const readiness = new Readiness();
    readiness.declare('database', true);
    readiness.declare('temporal', true);
    readiness.markUp('database', 'embedded PostgreSQL');
    const res = await request(appWith(readiness)).get('/ready');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      status: 'not ready',
      ready: false,
      dependencies: {
        database: { status: 'up', embedded: true, location: 'embedded PostgreSQL' },
        temporal: { status: 'starting', embedded: true },
      },
    });
  });

  it('answers 200 when every dependency is up and passes its live check', async () => {
    const readiness = new Readiness();
    readiness.declare('database', false);
    readiness.markUp('database', 'postgres://db/tc', () => Promise.resolve());
    const res = await request(appWith(readiness)).get('/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
  });

  it('turns 503 when a dependency that was up fails its live check', async () => {
    const readiness = new Readiness();
    readiness.declare('database', false);
    readiness.markUp('database', 'postgres://db/tc', () => Promise.reject(new Error('connection refused')));
    const res = await request(appWith(readiness)).get('/ready');
    expect(res.status).toBe(503);
    expect(res.body.dependencies.database).toMatchObject({ status: 'down', detail: 'connection refused' });
  });

  it('is not ready when nothing has been declared', async () => {
    expect((await request(appWith()).get('/ready')).status).toBe(503);
  });
});

describe('errors', () => {
  it('returns a 404 problem naming the route, with the request id', async () => {
    const res = await request(appWith()).get('/no-such-thing').set('X-Request-ID', 'trace-123');
    expect(res.status).toBe(404);
    expect(res.type).toBe('application/problem+json');
    expect(res.headers['x-request-id']).toBe('trace-123');
    expect(res.body).toMatchObject({
      status: 404,
      title: 'Not found',
      detail: 'No route for GET /no-such-thing',
      requestId: 'trace-123',
    });
  });

  it('returns a 400 problem for a body that is not JSON', async () => {
    const res = await request(appWith()).post('/health').set('Content-Type', 'application/json').send('{"nhsNumber": ');
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors).toEqual([{ pointer: '', detail: 'must be valid JSON' }]);
  });

  it('makes a request id when the caller sends none or a malformed one', async () => {
    const res = await request(appWith()).get('/health').set('X-Request-ID', 'bad id with spaces');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('request bodies', () => {
  it('returns a 413 problem for a body over the 1 MB limit', async () => {
    const body = JSON.stringify({ note: 'x'.repeat(2 * 1024 * 1024) });
    const res = await request(appWith()).post('/health').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(413);
    expect(res.type).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 413, title: 'The request is too large' });
    expect(res.body.detail).toMatch(/larger than the limit of \d+ bytes/);
  });

  it('returns a 415 problem for a body in an encoding it cannot read', async () => {
    const res = await request(appWith())
      .post('/health')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'x-unknown')
      .send('{}');
    expect(res.status).toBe(415);
    expect(res.type).toBe('application/problem+json');
  });

  it('returns a 400 problem for a body that is not in the encoding it names', async () => {
    const res = await request(appWith())
      .post('/health')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send('{"not":"gzip"}');
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 400, detail: 'The request body could not be read (encoding.mismatch)' });
  });
});
