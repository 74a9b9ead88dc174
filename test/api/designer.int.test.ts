/**
 * The pathway designer's API through real HTTP (supertest on the app), signed in with real bearer JWTs, on a real
 * PostgreSQL and the embedded Temporal server (time skipping) with the real activities: drafts started from a file
 * and from a deployed version, saved over the revision their author has (a stale one refused), published with a
 * change note through the deploy's lint gate, the versions with who, when, why and how many cases run each (counted
 * through Temporal visibility, across settings), the installed forms and a form's live preview; and only
 * commissioners may do any of it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../api';
import { createBearerAuth } from '../../api/auth/bearer';
import { DESIGNER_ROUTES } from '../../api/v1/designer.routes';
import {
  addStaff,
  completeTask,
  formSchemaId,
  startCase,
  terminateCase,
  type CaseEngine,
} from '../../engine';
import { ValidationError } from '../../domain/errors';
import { silentLogger } from '../../log';
import { readFormExamples, readFormSchema, invalidSubmission } from '../../pathways';
import { Readiness } from '../../runtime/readiness';
import type { Store } from '../../store';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import {
  NHS_NUMBER,
  PATHWAY_ID,
  formClock,
  prepareStore,
  realActivities,
  taskOf,
  validSubmission,
} from '../engine/task-completion-support';

const TASK_QUEUE = 'designer-api';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const OTHER = 'TDESB1';
const TWO_REVIEWS = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', 'two-reviews.bpmn'), 'utf8');
/** TwoReviews with its second review's name changed: a new version. */
const RENAMED = TWO_REVIEWS.replace('name="Second review"', 'name="Second review, with the keyworker"');
/** TwoReviews whose second review shows a form nobody installed: a lint error on SecondReview. */
const UNKNOWN_FORM = TWO_REVIEWS.replace('formId="sms-care-plan"', 'formId="no-such-form"');

/** A form made in the designer: one question, then a second required one in its next version. */
function designerForm(withDose = false): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: formSchemaId('designer-check'),
    title: 'Designer check',
    type: 'object',
    additionalProperties: false,
    required: withDose ? ['seen', 'dose'] : ['seen'],
    // Questions in the order the worklist must show them (not alphabetical).
    properties: {
      seen: { type: 'boolean', title: 'Seen today?', 'x-throughcare-source': { rule: 'local' } },
      ...(withDose
        ? { dose: { type: 'integer', minimum: 0, title: 'Dose (mg)', 'x-throughcare-source': { rule: 'local' } } }
        : {}),
    },
    'x-error-messages': {
      seen: 'Say whether the person was seen today.',
      ...(withDose ? { dose: 'Enter the dose in mg.' } : {}),
    },
  };
}
const DESIGNER_FORM_EXAMPLES = { valid: { seen: true }, invalid: [{ name: 'not said', field: 'seen', unset: ['seen'] }] };

const COMMISSIONER = 'casey@staff.test';
const OTHER_COMMISSIONER = 'robin@staff.test';
const CLINICIAN = 'sam@staff.test';
const OPS = 'oakley@staff.test';

interface Draft {
  draftId: string;
  pathwayId: string;
  name: string;
  basedOnVersion: number | null;
  revision: number;
  createdBy: string;
  updatedBy: string;
  updatedAt: string;
  xml?: string;
  findings: { id: string; severity: string; rule: string }[];
  latestVersion: number | null;
}
interface VersionEntry {
  version: number;
  deployedBy: string;
  deployedByName: string | null;
  deployedAt: string;
  changeNote: string | null;
  runningCases: number;
}

describe('pathway designer API', () => {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let engine: CaseEngine;
  let app: Express;
  let own: string;
  const tokens = new Map<string, string>();
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('designer_api');
  const knex = () => store.orm.em.getConnection().getKnex();

  function as(subject: string, method: 'get' | 'post' | 'put' | 'delete', url: string, body?: unknown) {
    const req = request(app)
      [method](`/api/v1${url}`)
      .set('Authorization', `Bearer ${tokens.get(subject)!}`);
    return body === undefined ? req : req.send(body as object);
  }
  const pointers = (res: request.Response) =>
    ((res.body as { errors?: { pointer: string }[] }).errors ?? []).map((e) => e.pointer);
  const history = async (pathwayId = PATHWAY_ID) => {
    const res = await as(COMMISSIONER, 'get', `/designer/pathways/${pathwayId}/versions`);
    expect(res.status).toBe(200);
    return (res.body as { items: VersionEntry[] }).items;
  };
  const newDraft = async (body: Record<string, unknown>) => {
    const res = await as(COMMISSIONER, 'post', '/designer/drafts', body);
    expect(res.status).toBe(201);
    return res.body as Draft;
  };

  beforeAll(async () => {
    installQuietRuntime();
    ({ store, settingOdsCode: own } = await prepareStore(db.url));
    await knex()('settings').insert({
      id: randomUUID(),
      ods_code: OTHER,
      name: 'Other prison',
      kind: 'prison',
      prison_type: 'HMP',
    });
    env = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: realActivities(store),
    });
    running = worker.run();
    engine = { store, client: env.client, taskQueue: TASK_QUEUE, logger: silentLogger, now: formClock };

    const keys = await generateKeyPair('ES256');
    const privateKey: KeyLike = keys.privateKey;
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'ES256' }] });
    app = createApp({
      readiness: new Readiness(),
      logger: silentLogger,
      api: () => ({
        store,
        authenticate: createBearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, store }),
        engine: () => engine,
        spine: () => undefined,
      }),
    });
    const staff: [string, string, 'commissioner' | 'clinician' | 'ops'][] = [
      [COMMISSIONER, 'Casey Commissioner', 'commissioner'],
      [OTHER_COMMISSIONER, 'Robin Commissioner', 'commissioner'],
      [CLINICIAN, 'Sam Patel', 'clinician'],
      [OPS, 'Oakley Ops', 'ops'],
    ];
    for (const [subject, name, role] of staff) {
      await addStaff(store, { name, email: subject, duties: [], settings: [own], roles: [role], subject });
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k' })
        .setSubject(subject)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('30m')
        .sign(privateKey);
      tokens.set(subject, token);
    }
  }, 120_000);

  it('starts drafts from a file and from a deployed version, each with its lint findings; lint errors do not block saving', async () => {
    // From a file with a form nobody installed: saved, with the error naming the element.
    const fromFile = await newDraft({ xml: UNKNOWN_FORM, name: 'Two reviews, trying a new form' });
    expect(fromFile).toMatchObject({
      pathwayId: PATHWAY_ID,
      name: 'Two reviews, trying a new form',
      basedOnVersion: null,
      revision: 1,
      createdBy: COMMISSIONER,
      updatedBy: COMMISSIONER,
      xml: UNKNOWN_FORM,
      latestVersion: 1,
    });
    expect(fromFile.findings).toContainEqual(
      expect.objectContaining({ id: 'SecondReview', rule: 'throughcare/user-task-form', severity: 'error' }),
    );

    // From the deployed version: its XML exactly, named after its process, without errors.
    const fromVersion = await newDraft({ pathwayId: PATHWAY_ID, version: 1 });
    expect(fromVersion).toMatchObject({
      pathwayId: PATHWAY_ID,
      name: 'Two reviews, the first one saved',
      basedOnVersion: 1,
      xml: TWO_REVIEWS,
    });
    expect(fromVersion.findings.filter((f) => f.severity === 'error')).toEqual([]);

    // The list: the last saved first, without the XML or findings.
    const list = await as(COMMISSIONER, 'get', '/designer/drafts');
    expect(list.status).toBe(200);
    const items = (list.body as { items: Draft[] }).items;
    expect(items.map((d) => d.draftId).slice(0, 2)).toEqual([fromVersion.draftId, fromFile.draftId]);
    expect(items[0]).not.toHaveProperty('xml');
    expect(items[0]).not.toHaveProperty('findings');

    // One draft, read back with its XML.
    const read = await as(COMMISSIONER, 'get', `/designer/drafts/${fromFile.draftId}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ draftId: fromFile.draftId, xml: UNKNOWN_FORM, revision: 1 });
  });

  it('refuses a draft that is not BPMN, of a version that does not exist, or from two sources at once', async () => {
    const notBpmn = await as(COMMISSIONER, 'post', '/designer/drafts', { xml: '<notes>nothing to run</notes>' });
    expect(notBpmn.status).toBe(422);
    expect(notBpmn.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(pointers(notBpmn)).toEqual(['/xml']);

    const noSuchVersion = await as(COMMISSIONER, 'post', '/designer/drafts', { pathwayId: PATHWAY_ID, version: 99 });
    expect(noSuchVersion.status).toBe(404);

    const both = await as(COMMISSIONER, 'post', '/designer/drafts', {
      xml: TWO_REVIEWS,
      pathwayId: PATHWAY_ID,
      version: 1,
    });
    expect(both.status).toBe(400);
    expect(pointers(both)).toEqual(['/pathwayId']);

    const versionMissing = await as(COMMISSIONER, 'post', '/designer/drafts', { pathwayId: PATHWAY_ID });
    expect(versionMissing.status).toBe(400);
    expect(pointers(versionMissing)).toEqual(['/version']);

    const nothing = await as(COMMISSIONER, 'post', '/designer/drafts', {});
    expect(nothing.status).toBe(400);
    expect(pointers(nothing)).toEqual(['/xml']);
  });

  it('saves over the revision you have, and refuses a stale one with 409, so nobody overwrites another unseen', async () => {
    const draft = await newDraft({ pathwayId: PATHWAY_ID, version: 1 });

    const saved = await as(OTHER_COMMISSIONER, 'put', `/designer/drafts/${draft.draftId}`, {
      xml: RENAMED,
      revision: 1,
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ revision: 2, xml: RENAMED, updatedBy: OTHER_COMMISSIONER });
    expect((saved.body as Draft).createdBy).toBe(COMMISSIONER);

    // Casey still has revision 1 open: their save is refused, and Robin's stands.
    const stale = await as(COMMISSIONER, 'put', `/designer/drafts/${draft.draftId}`, {
      xml: UNKNOWN_FORM,
      revision: 1,
    });
    expect(stale.status).toBe(409);
    expect(stale.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((stale.body as { detail: string }).detail).toContain('revision 2');
    const now = await as(COMMISSIONER, 'get', `/designer/drafts/${draft.draftId}`);
    expect(now.body).toMatchObject({ revision: 2, xml: RENAMED });

    // A save with lint errors is kept, with its findings.
    const withErrors = await as(COMMISSIONER, 'put', `/designer/drafts/${draft.draftId}`, {
      xml: UNKNOWN_FORM,
      revision: 2,
    });
    expect(withErrors.status).toBe(200);
    expect((withErrors.body as Draft).findings).toContainEqual(
      expect.objectContaining({ id: 'SecondReview', severity: 'error' }),
    );

    expect(
      (await as(COMMISSIONER, 'put', `/designer/drafts/${randomUUID()}`, { xml: RENAMED, revision: 1 })).status,
    ).toBe(404);
    const noRevision = await as(COMMISSIONER, 'put', `/designer/drafts/${draft.draftId}`, { xml: RENAMED });
    expect(noRevision.status).toBe(400);
    expect(pointers(noRevision)).toEqual(['/revision']);

    // Discarding: refused at a stale revision, then gone.
    expect((await as(COMMISSIONER, 'delete', `/designer/drafts/${draft.draftId}?revision=2`)).status).toBe(409);
    const discarded = await as(COMMISSIONER, 'delete', `/designer/drafts/${draft.draftId}?revision=3`);
    expect(discarded.status).toBe(204);
    expect((await as(COMMISSIONER, 'get', `/designer/drafts/${draft.draftId}`)).status).toBe(404);
  });

  it('refuses to publish a draft with lint errors, naming the element, and makes no version', async () => {
    const before = await history();
    const draft = await newDraft({ xml: UNKNOWN_FORM });

    const refused = await as(COMMISSIONER, 'post', `/designer/drafts/${draft.draftId}/publish`, {
      changeNote: 'Try the new form',
    });

    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(pointers(refused)).toEqual(['/elements/SecondReview']);
    expect(await history()).toEqual(before);
    expect((await as(COMMISSIONER, 'get', `/designer/drafts/${draft.draftId}`)).status).toBe(200);
  });

  it('publishes a draft with a change note: a new version with who, when and why, the draft removed, the deploy audited', async () => {
    const draft = await newDraft({ pathwayId: PATHWAY_ID, version: 1 });
    const { revision } = (
      await as(COMMISSIONER, 'put', `/designer/drafts/${draft.draftId}`, { xml: RENAMED, revision: 1 })
    ).body as Draft;
    const publishUrl = `/designer/drafts/${draft.draftId}/publish`;

    // A change note is required, and more than spaces; a stale revision is refused.
    const noNote = await as(COMMISSIONER, 'post', publishUrl, {});
    expect(noNote.status).toBe(400);
    expect(pointers(noNote)).toEqual(['/changeNote']);
    expect(pointers(await as(COMMISSIONER, 'post', publishUrl, { changeNote: '   ' }))).toEqual(['/changeNote']);
    expect(pointers(await as(COMMISSIONER, 'post', publishUrl, { changeNote: 'x'.repeat(2001) }))).toEqual([
      '/changeNote',
    ]);
    expect((await as(COMMISSIONER, 'post', publishUrl, { changeNote: 'Stale', revision: 1 })).status).toBe(409);

    const requestId = randomUUID();
    const published = await as(COMMISSIONER, 'post', publishUrl, {
      changeNote: 'The keyworker joins the second review',
      revision,
    }).set('X-Request-ID', requestId);

    expect(published.status).toBe(201);
    expect(published.body).toMatchObject({
      pathwayId: PATHWAY_ID,
      version: 2,
      deployedBy: COMMISSIONER,
      changeNote: 'The keyworker joins the second review',
      draftRemoved: true,
    });
    expect((await as(COMMISSIONER, 'get', `/designer/drafts/${draft.draftId}`)).status).toBe(404);
    const [latest, first] = await history();
    expect(latest).toMatchObject({
      version: 2,
      deployedBy: COMMISSIONER,
      deployedByName: 'Casey Commissioner',
      changeNote: 'The keyworker joins the second review',
    });
    expect(Date.now() - Date.parse(latest!.deployedAt)).toBeLessThan(60_000);
    expect(first).toMatchObject({ version: 1, deployedBy: 'test', deployedByName: null, changeNote: null });
    const bpmn = await as(COMMISSIONER, 'get', `/pathways/${PATHWAY_ID}/versions/2/bpmn`);
    expect(bpmn.text).toBe(RENAMED);
    const audit = await knex()('audit_events').where({ request_id: requestId });
    expect(audit).toEqual([
      expect.objectContaining({
        operation: 'pathway.deploy',
        action: 'create',
        entity_type: 'PathwayVersion',
        entity_id: `${PATHWAY_ID}:2`,
        actor_subject: COMMISSIONER,
        actor_role: 'commissioner',
      }),
    ]);

    // The same XML again is nothing new to publish: refused, and that draft kept.
    const again = await newDraft({ xml: RENAMED });
    const identical = await as(COMMISSIONER, 'post', `/designer/drafts/${again.draftId}/publish`, {
      changeNote: 'Again',
    });
    expect(identical.status).toBe(409);
    expect((identical.body as { detail: string }).detail).toContain('version 2');
    expect((await as(COMMISSIONER, 'get', `/designer/drafts/${again.draftId}`)).status).toBe(200);
    expect((await history()).length).toBe(2);
  });

  it('counts the cases running each version across every setting, and never says which', async () => {
    const versions = (await history()).map((v) => v.version);
    expect(versions).toEqual([2, 1]);
    const start = (version: number, setting: string) =>
      startCase(engine, {
        pathwayId: PATHWAY_ID,
        version,
        nhsNumber: NHS_NUMBER,
        settingOdsCode: setting,
        variables: {},
        startedBy: CLINICIAN,
      });
    const onOne = [await start(1, own), await start(1, OTHER)];
    const onTwo = await start(2, own);

    const counted = await eventually(
      'the running cases counted per version',
      async () => (await history()).map((v) => [v.version, v.runningCases]),
      (counts) =>
        JSON.stringify(counts) ===
        JSON.stringify([
          [2, 1],
          [1, 2],
        ]),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(counted).toEqual([
      [2, 1],
      [1, 2],
    ]);
    const body = JSON.stringify(await history());
    for (const started of [...onOne, onTwo]) expect(body).not.toContain(started.caseId);

    // A case that ends no longer counts.
    await terminateCase(engine, onOne[0]!.caseId, { reason: 'released', terminatedBy: CLINICIAN });
    await eventually(
      'the ended case no longer counted',
      async () => (await history()).find((v) => v.version === 1)?.runningCases,
      (count) => count === 1,
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    expect((await as(COMMISSIONER, 'get', '/designer/pathways/NoSuchPathway/versions')).status).toBe(404);
  });

  it('lists the installed forms with the pathways that show them, and one form with its schema and examples', async () => {
    const list = await as(COMMISSIONER, 'get', '/designer/forms');
    expect(list.status).toBe(200);
    const items = (list.body as { items: { formId: string; title: string; usedBy: unknown[] }[] }).items;
    expect(items.find((f) => f.formId === 'sms-brief-intervention')).toEqual({
      formId: 'sms-brief-intervention',
      version: 1,
      title: readFormSchema('sms-brief-intervention').title,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{16}$/),
      source: 'shipped',
      installedBy: 'throughcare',
      installedAt: expect.any(String),
      changeNote: 'Shipped with Throughcare',
      usedBy: [{ pathwayId: PATHWAY_ID, version: 2, elementIds: ['FirstReview'] }],
    });
    expect(items.find((f) => f.formId === 'sms-review')?.usedBy).toEqual([]);

    const one = await as(COMMISSIONER, 'get', '/designer/forms/sms-review');
    expect(one.status).toBe(200);
    const { valid, invalid } = readFormExamples('sms-review');
    expect(one.body).toMatchObject({ formId: 'sms-review', schema: readFormSchema('sms-review') });
    const examples = (one.body as { examples: { name: string; valid: boolean; submission: unknown }[] }).examples;
    expect(examples[0]).toEqual({ name: 'valid', valid: true, submission: valid });
    expect(examples[1]).toMatchObject({
      name: invalid[0]!.name,
      valid: false,
      field: invalid[0]!.field,
      submission: invalidSubmission(valid, invalid[0]!),
    });
    expect((await as(COMMISSIONER, 'get', '/designer/forms/no-such-form')).status).toBe(404);
  });

  it('previews a form as the worklist renders it: valid, an invalid submission with its problems, a schema that does not compile', async () => {
    const schema = readFormSchema('sms-review');
    const { valid, invalid } = readFormExamples('sms-review');

    const ok = await as(COMMISSIONER, 'post', '/designer/forms/preview', { schema, submission: valid });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, problems: [] });
    expect((ok.body as { html: string }).html).toContain(`<h2>${schema.title}</h2>`);
    expect((ok.body as { html: string }).html).toContain('name="reviewType"');

    const example = invalid[0]!;
    const bad = await as(COMMISSIONER, 'post', '/designer/forms/preview', {
      schema,
      submission: invalidSubmission(valid, example),
    });
    expect(bad.status).toBe(200);
    const { problems, html } = bad.body as {
      valid: boolean;
      problems: { pointer: string; detail: string }[];
      html: string;
    };
    expect((bad.body as { valid: boolean }).valid).toBe(false);
    const problem = problems.find((p) => p.pointer === `/submission/${example.field}`);
    expect(problem?.detail).toBe(example.detail ?? schema['x-error-messages']?.[example.field]);
    expect(html).toContain('There is a problem');
    expect(html).toContain(problem!.detail);

    // A form that breaks the conventions: a question without its message.
    const { reviewType: _message, ...messages } = schema['x-error-messages'] ?? {};
    const unconventional = await as(COMMISSIONER, 'post', '/designer/forms/preview', {
      schema: { ...schema, 'x-error-messages': messages },
    });
    expect(unconventional.status).toBe(200);
    expect(unconventional.body).toMatchObject({
      valid: false,
      problems: [{ pointer: '/schema/x-error-messages/reviewType', detail: expect.any(String) }],
    });

    const broken = await as(COMMISSIONER, 'post', '/designer/forms/preview', {
      schema: { ...schema, properties: { ...schema.properties, reviewType: { type: 'choice' } } },
    });
    expect(broken.status).toBe(422);
    expect(broken.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((broken.body as { errors: unknown[] }).errors).toEqual([
      { pointer: '/schema', detail: expect.stringContaining('must be equal to one of the allowed values') },
    ]);
  });

  it('installs a form made in the designer, checked as shipped forms are, and a pathway then shows it and checks answers against its latest version', async () => {
    const install = (body: Record<string, unknown>) =>
      as(COMMISSIONER, 'post', '/designer/forms', {
        formId: 'designer-check',
        schema: designerForm(),
        examples: DESIGNER_FORM_EXAMPLES,
        changeNote: 'A check for the designer test',
        ...body,
      });
    // Refused, each problem named: an $id that is not the form's, and an "invalid" example the form accepts.
    const refused = await install({
      schema: { ...designerForm(), $id: 'https://elsewhere.test/form.json' },
      examples: { valid: { seen: true }, invalid: [{ name: 'accepted', field: 'seen', set: { seen: false } }] },
    });
    expect(refused.status).toBe(422);
    expect(pointers(refused)).toEqual(['/schema/$id', '/examples/invalid/0']);
    const unconventional = await install({ schema: { ...designerForm(), 'x-error-messages': {} } });
    expect(pointers(unconventional)).toEqual(['/schema/x-error-messages/seen']);

    const installed = await install({});
    expect(installed.status).toBe(201);
    expect(installed.body).toMatchObject({
      formId: 'designer-check',
      version: 1,
      source: 'designer',
      installedBy: COMMISSIONER,
      changeNote: 'A check for the designer test',
    });
    // Again as a new form, or the same schema as a next version: nothing to install.
    expect((await install({})).status).toBe(409);
    expect((await install({ basedOnVersion: 1 })).status).toBe(409);
    const audited = await knex()('audit_events').where({ operation: 'form.install', actor_subject: COMMISSIONER });
    expect(audited.map((e: { entity_id: string }) => e.entity_id)).toEqual(['designer-check:1']);

    // Served where the API says forms are, as written (its questions in their order), and listed.
    const served = await request(app).get('/api/v1/forms/designer-check.schema.json');
    expect(served.status).toBe(200);
    expect(served.text).toBe(JSON.stringify(designerForm()));
    const listed = (await as(COMMISSIONER, 'get', '/designer/forms')).body as { items: { formId: string }[] };
    expect(listed.items.find((f) => f.formId === 'designer-check')).toMatchObject({ version: 1, usedBy: [] });

    // A pathway showing it lints clean and is published.
    const xml = TWO_REVIEWS.replace('formId="sms-care-plan"', 'formId="designer-check"');
    const draft = await newDraft({ xml });
    expect(draft.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const published = await as(COMMISSIONER, 'post', `/designer/drafts/${draft.draftId}/publish`, {
      changeNote: 'The second review asks the designer check',
    });
    expect(published.status).toBe(201);
    const started = await startCase(engine, {
      pathwayId: PATHWAY_ID,
      version: (published.body as { version: number }).version,
      nhsNumber: NHS_NUMBER,
      settingOdsCode: own,
      variables: {},
      startedBy: CLINICIAN,
    });
    const first = await taskOf(engine, started.caseId, 'FirstReview');
    await completeTask(engine, {
      taskId: first.taskId,
      data: validSubmission('sms-brief-intervention'),
      completedBy: CLINICIAN,
    });
    const second = await taskOf(engine, started.caseId, 'SecondReview');
    expect(second.formId).toBe('designer-check');
    const refusedOn = (data: Record<string, unknown>) =>
      completeTask(engine, { taskId: second.taskId, data, completedBy: CLINICIAN }).then(
        () => [],
        (error: unknown) => {
          if (!(error instanceof ValidationError)) throw error;
          return error.problems;
        },
      );
    expect(await refusedOn({})).toEqual([{ pointer: '/seen', detail: 'Say whether the person was seen today.' }]);

    // Version 2 asks the dose too: the open task's answers are checked against it from now on.
    const next = await install({
      schema: designerForm(true),
      examples: { valid: { seen: true, dose: 30 } },
      changeNote: 'Ask the dose',
      basedOnVersion: 1,
    });
    expect(next.status).toBe(201);
    expect(next.body).toMatchObject({ version: 2 });
    expect((await install({ schema: designerForm(), basedOnVersion: 1 })).status).toBe(409);
    expect(await refusedOn({ seen: true })).toEqual([{ pointer: '/dose', detail: 'Enter the dose in mg.' }]);
    expect(await refusedOn({ seen: true, dose: 30 })).toEqual([]);
    const detail = (await as(COMMISSIONER, 'get', '/designer/forms/designer-check')).body as {
      versions: { version: number; changeNote: string }[];
    };
    expect(detail.versions.map((v) => [v.version, v.changeNote])).toEqual([
      [2, 'Ask the dose'],
      [1, 'A check for the designer test'],
    ]);
  });

  it('refuses clinicians and ops (403) on every designer operation', async () => {
    const draft = await newDraft({ xml: TWO_REVIEWS });
    const bodies: Record<string, unknown> = {
      createPathwayDraft: { xml: TWO_REVIEWS },
      savePathwayDraft: { xml: RENAMED, revision: 1 },
      publishPathwayDraft: { changeNote: 'Not mine to make' },
      previewForm: { schema: readFormSchema('sms-review') },
      installForm: { formId: 'not-theirs', schema: {}, examples: { valid: {} }, changeNote: 'Not mine to make' },
    };
    const paramValues: Record<string, string> = { draftId: draft.draftId, pathwayId: PATHWAY_ID, formId: 'sms-review' };
    for (const route of DESIGNER_ROUTES) {
      const url = route.path.replace(/\{(\w+)\}/g, (_all, name: string) => paramValues[name]!);
      for (const who of [CLINICIAN, OPS]) {
        const res = await as(who, route.method, url, bodies[route.operationId]);
        expect({ operation: route.operationId, who, status: res.status }).toEqual({
          operation: route.operationId,
          who,
          status: 403,
        });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    }
    // Nothing they sent changed the draft.
    expect((await as(COMMISSIONER, 'get', `/designer/drafts/${draft.draftId}`)).body).toMatchObject({
      revision: 1,
      xml: TWO_REVIEWS,
    });
  });
});
