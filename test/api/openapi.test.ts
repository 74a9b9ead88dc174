/**
 * The OpenAPI 3.1 document of /api/v1: valid against the OpenAPI 3.1 schema, every schema in it a valid JSON
 * Schema 2020-12, every operation the router serves in it (and nothing it does not serve), forms referenced
 * (not copied) and served.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { createApp } from '../../api';
import { apiV1OperationsRouter, createOperations, expressPath } from '../../api/v1/router';
import { buildOpenApiDocument } from '../../api/v1/openapi';
import { ROUTES } from '../../api/v1/routes';
import { silentLogger } from '../../log';
import { FORMS_DIRECTORY, listFormIds } from '../../pathways';
import { Readiness } from '../../runtime/readiness';
import { routesOf } from './routes-of';

const OAS_31_SCHEMA = path.join(
  __dirname,
  '..',
  '..',
  'node_modules',
  '@seriousme',
  'openapi-schema-validator',
  'schemas',
  'v3.1',
  'schema.json',
);

describe('the OpenAPI document', () => {
  const document = buildOpenApiDocument() as {
    openapi: string;
    paths: Record<string, Record<string, { operationId: string }>>;
    components: { schemas: Record<string, unknown> };
  };

  it('is valid OpenAPI 3.1', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false, logger: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(fs.readFileSync(OAS_31_SCHEMA, 'utf8')) as object);
    const valid = validate(JSON.parse(JSON.stringify(document)));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('holds valid JSON Schemas 2020-12', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema({ $id: 'https://throughcare.test/doc', components: document.components });
    for (const name of Object.keys(document.components.schemas)) {
      if (name.startsWith('form.')) continue;
      expect(() => ajv.getSchema(`https://throughcare.test/doc#/components/schemas/${name}`)).not.toThrow();
    }
  });

  it('has every operation the router serves, and no other', () => {
    const served = routesOf(apiV1OperationsRouter(createOperations({ engine: () => undefined }))).sort();
    const documented = Object.entries(document.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${expressPath(p)}`))
      .sort();
    expect(documented).toEqual(served);
    expect(served).toHaveLength(ROUTES.length);
  });

  // Serving them, from the record store's installed forms, is tested with a database (test/api/designer.int.test.ts).
  it('references every shipped form by $ref to where it is served, and says so while the store is not open', async () => {
    const app = createApp({ readiness: new Readiness(), logger: silentLogger });
    for (const formId of listFormIds(FORMS_DIRECTORY)) {
      expect(document.components.schemas[`form.${formId}`]).toEqual({ $ref: `/api/v1/forms/${formId}.schema.json` });
    }
    const res = await request(app).get('/api/v1/forms/sms-review.schema.json');
    expect(res.status).toBe(503);
    expect(res.type).toBe('application/problem+json');
  });

  it('is served without sign-in, and the reference docs render it from local assets', async () => {
    const app = createApp({ readiness: new Readiness(), logger: silentLogger });
    const res = await request(app).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.paths['/cases/{caseId}'].get.operationId).toBe('getCase');
    const docs = await request(app).get('/api/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger-ui');
    expect(docs.text).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)/);
    const init = await request(app).get('/api/docs/swagger-ui-init.js');
    expect(init.text).toContain('/api/v1/openapi.json');
    expect((await request(app).get('/api/docs/swagger-ui-bundle.js')).status).toBe(200);
  });

  it('answers 503 problem+json for an operation while the API is not there yet', async () => {
    const app = createApp({ readiness: new Readiness(), logger: silentLogger });
    const res = await request(app).get('/api/v1/cases');
    expect(res.status).toBe(503);
    expect(res.type).toBe('application/problem+json');
  });
});
