/**
 * The web pages people work in (issue 15): server-rendered with the NHS.UK design system, working with
 * JavaScript off. Pages call the same operations as /api/v1 (createOperations), so what a page shows or changes
 * is validated, judged by the policy and audited exactly as the API would for that person.
 */
import path from 'node:path';
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { SIGN_IN_PATH, SIGN_OUT_PATH } from '../api/auth/paths';
import type { Principal } from '../api/auth/principal';
import { CSRF_FIELD, type SessionLocals } from '../api/auth/session';
import type { Operations } from '../api/v1/router';
import { DependencyUnavailableError, ThroughcareError, type ErrorCode } from '../domain/errors';
import { statusOf } from '../api/problem';
import { NHSUK_FRONTEND_DIST, createRenderer } from './render';
import {
  addNotePost,
  amendNotePost,
  appointmentOutcomePost,
  bookAppointmentPost,
  casePage,
  raiseAlertPost,
  resolveAlertPost,
} from './case';
import { consentPage, consentPost } from './contacts';
import { addContactPost, findPatientPage, patientPage, startCasePost } from './patients';
import { changeSetting, settingPage, workingSettingOf } from './setting';
import { reassignTask, submitTask, taskPage } from './task';
import { changeAssignment, worklistPage } from './worklist';
import { deleteWorklistViewPost, saveWorklistViewPost } from './worklist-views';
import { reportDownload, reportPage, reportsPage } from './reports';
import { createClientBundles } from './client-bundles';
import {
  createDraftPost,
  designerPage,
  DESIGNER_BUNDLE,
  DIFF_BUNDLE,
  FORM_PREVIEW_BUNDLE,
  discardDraftPost,
  formPage,
  formPost,
  formsPage,
  draftPage,
  draftPost,
  pathwayDiffPage,
  pathwayVersionsPage,
} from './designer';
import { opsMigrationPage, opsMigrationPost } from './ops-migration';
import { OPS_PATHWAY_BUNDLE, opsPathwayPage } from './ops-pathway';
import { opsLogPage, opsPage, previewBulkPost, saveOpsSearchPost } from './ops';
import { applyBulkPost, bulkPage, cancelBulkPost } from './ops-bulk';
import { cancelOpsPost, messageOpsPost, opsCasePage, opsHistoryPage, reassignOpsPost, retryOpsPost } from './ops-case';

/** The errors a page answers as a page, with its heading; anything else (a bug, a bad form) goes on. */
const PAGE_TITLES: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: 'Sign in required',
  FORBIDDEN: 'You do not have access to this page',
  NOT_FOUND: 'Page not found',
  CONFLICT: 'This has changed since you opened the page',
  DEPENDENCY_UNAVAILABLE: 'Sorry, the service is unavailable',
};

export interface WebDependencies {
  /** The operations of /api/v1, once the engine is up; pages answer 503 until then. */
  readonly operations: () => Operations | undefined;
  /** The session's CSRF token for forms that post; undefined when there is no browser sign-in. */
  readonly csrfToken: (req: Request) => string | undefined;
  /** Refuses a post without the session's CSRF token; undefined when there is no browser sign-in. */
  readonly requireCsrf: () => RequestHandler | undefined;
}

export interface PageContext {
  readonly principal: Principal;
  readonly operations: Operations;
  readonly req: Request;
  /** The session's CSRF token, for the forms a page shows. */
  readonly csrfToken: string;
  /** The setting they said they are working in now (one of theirs), the default of a page's setting choices. */
  readonly workingSetting: string | undefined;
  /** Renders a view with the layout's shared values (who is signed in, which page is current). */
  render(view: string, values: Record<string, unknown>, status?: number): void;
  /** After a form's change: see it where the form was (303, so a reload does not post again). */
  redirect(path: string): void;
  /** Sends a file to save (Content-Disposition: attachment) instead of a page. */
  download(file: { readonly name: string; readonly type: string; readonly body: string }): void;
}

export function createWebRouter(deps: WebDependencies): Router {
  const env = createRenderer();
  const router = Router();
  const render = (res: Response, principal: Principal | undefined, view: string, values: Record<string, unknown>) =>
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(env.render(view, { principal, workingSetting: workingSettingOf(res.req, principal), ...values }));

  // Our script first, then the NHS.UK frontend's CSS, JS, images and manifest, from its own package (no CDN).
  const cached = { maxAge: '1h' } as const;
  router.use('/assets', express.static(path.join(__dirname, 'assets'), cached));
  router.use('/assets', express.static(path.join(NHSUK_FRONTEND_DIST, 'nhsuk'), { ...cached, index: false }));
  router.use('/assets', express.static(path.join(NHSUK_FRONTEND_DIST, 'nhsuk', 'assets'), cached));
  // Page scripts bundled with esbuild when the router is made (web/client-bundles.ts): the heatmap's bpmn-js viewer,
  // the designer's modeller and the version diff's viewers.
  const bundles = createClientBundles([OPS_PATHWAY_BUNDLE, DESIGNER_BUNDLE, DIFF_BUNDLE, FORM_PREVIEW_BUNDLE]);
  router.use(bundles.router);

  router.get('/', (req, res) => {
    const principal = principalOf(res);
    render(res, principal, 'home.njk', {
      title: 'Home',
      roles: principal?.roles.join(', ') || 'no role',
      settings: principal?.settings.join(', ') || 'no setting',
      signInPath: SIGN_IN_PATH,
      signOutPath: SIGN_OUT_PATH,
      csrfField: CSRF_FIELD,
      // Only a signed-in person has a form to post (and a session to hold its token: a session that ended has none).
      csrfToken: principal ? (deps.csrfToken(req) ?? '') : '',
    });
  });

  /** A page for a signed-in person: anyone else is sent to sign in and brought back here. */
  const page =
    (handler: (ctx: PageContext) => Promise<void>) =>
    async (req: Request, res: Response, next: (e?: unknown) => void) => {
      const principal = principalOf(res);
      if (!principal) {
        res.redirect(303, `${SIGN_IN_PATH}?returnTo=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      const operations = deps.operations();
      if (!operations) return next(new DependencyUnavailableError('Throughcare is still starting: try again shortly'));
      try {
        await handler({
          principal,
          operations,
          req,
          csrfToken: deps.csrfToken(req) ?? '',
          workingSetting: workingSettingOf(req, principal),
          render: (view, values, status = 200) => {
            res.status(status);
            render(res, principal, view, { csrfField: CSRF_FIELD, ...values });
          },
          redirect: (path) => res.redirect(303, path),
          download: (file) => {
            res.set('Cache-Control', 'no-store').type(file.type).attachment(file.name).send(file.body);
          },
        });
      } catch (error) {
        next(error);
      }
    };

  // Forms post urlencoded with the session's CSRF token: checked before anything else reads them.
  const checkCsrf = ((req, res, next) => {
    const requireCsrf = deps.requireCsrf();
    if (!requireCsrf) return res.redirect(303, SIGN_IN_PATH);
    requireCsrf(req, res, next);
  }) satisfies RequestHandler;
  const form = [express.urlencoded({ extended: false, limit: '16kb' }), checkCsrf];
  // The designer's forms carry a whole pathway's BPMN XML (the API takes up to a million characters).
  const designerForm = [express.urlencoded({ extended: false, limit: '4mb' }), checkCsrf];

  router.get('/setting', page(settingPage));
  router.post('/setting', ...form, page(changeSetting));
  router.get('/worklist', page(worklistPage));
  router.post('/worklist/claim', ...form, page(changeAssignment('claim')));
  router.post('/worklist/unclaim', ...form, page(changeAssignment('unclaim')));
  router.post('/worklist/views', ...form, page(saveWorklistViewPost));
  router.post('/worklist/views/:viewId/delete', ...form, page(deleteWorklistViewPost));
  router.get('/patients', page(findPatientPage));
  router.get('/patients/:nhsNumber', page(patientPage));
  router.post('/patients/:nhsNumber/cases', ...form, page(startCasePost));
  router.post('/patients/:nhsNumber/contacts', ...form, page(addContactPost));
  router.get('/patients/:nhsNumber/contacts/:contactId/consent', page(consentPage));
  router.post('/patients/:nhsNumber/contacts/:contactId/consent', ...form, page(consentPost));
  router.get('/cases/:caseId', page(casePage));
  router.post('/cases/:caseId/notes', ...form, page(addNotePost));
  router.post('/cases/:caseId/notes/:noteId/amend', ...form, page(amendNotePost));
  router.post('/cases/:caseId/alerts', ...form, page(raiseAlertPost));
  router.post('/cases/:caseId/alerts/:alertId/resolve', ...form, page(resolveAlertPost));
  router.post('/cases/:caseId/appointments', ...form, page(bookAppointmentPost));
  router.post('/cases/:caseId/appointments/:appointmentId/outcome', ...form, page(appointmentOutcomePost));

  router.get('/tasks/:taskId', page(taskPage));
  router.post('/tasks/:taskId', ...form, page(submitTask));
  router.post('/tasks/:taskId/assign', ...form, page(reassignTask));
  router.get('/ops/pathways/:pathwayId/versions/:version', page(opsPathwayPage(bundles)));
  router.get('/ops/pathways/:pathwayId/versions/:version/migrate', page(opsMigrationPage));
  router.post('/ops/pathways/:pathwayId/versions/:version/migrate', ...form, page(opsMigrationPost));
  router.get(
    '/designer',
    page((ctx) => designerPage(ctx)),
  );
  router.post('/designer/drafts', ...designerForm, page(createDraftPost));
  router.get('/designer/drafts/:draftId', page(draftPage(bundles)));
  router.post('/designer/drafts/:draftId', ...designerForm, page(draftPost(bundles)));
  router.post('/designer/drafts/:draftId/discard', ...form, page(discardDraftPost));
  router.get('/designer/pathways/:pathwayId', page(pathwayVersionsPage));
  router.get('/designer/pathways/:pathwayId/diff', page(pathwayDiffPage(bundles)));
  router.get('/designer/forms', page(formsPage));
  router.get('/designer/forms/:formId', page(formPage(bundles)));
  router.post('/designer/forms/:formId', ...designerForm, page(formPost(bundles)));
  router.get('/reports', page(reportsPage));
  router.get('/reports/:report', page(reportPage));
  router.get('/reports/:report/download', page(reportDownload));
  router.get('/ops', page(opsPage));
  router.post('/ops/saved-searches', ...form, page(saveOpsSearchPost));
  router.post('/ops/bulk', ...form, page(previewBulkPost));
  router.get('/ops/bulk/:operationId', page(bulkPage));
  router.post('/ops/bulk/:operationId/apply', ...form, page(applyBulkPost));
  router.post('/ops/bulk/:operationId/cancel', ...form, page(cancelBulkPost));
  router.get('/ops/log', page(opsLogPage));
  router.get('/ops/cases/:caseId', page(opsCasePage));
  router.get('/ops/cases/:caseId/history', page(opsHistoryPage));
  router.post('/ops/cases/:caseId/retry', ...form, page(retryOpsPost));
  router.post('/ops/cases/:caseId/messages', ...form, page(messageOpsPost));
  router.post('/ops/cases/:caseId/cancel', ...form, page(cancelOpsPost));
  router.post('/ops/cases/:caseId/reassign', ...form, page(reassignOpsPost));

  // Errors on a page are a page, in the design system's words, not problem+json; the status is the API's.
  const pageError: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (res.headersSent || req.path.startsWith('/assets')) return next(error);
    const title = error instanceof ThroughcareError ? PAGE_TITLES[error.code] : undefined;
    if (!(error instanceof ThroughcareError) || !title) return next(error);
    res.status(statusOf(error.code));
    // The policy's reason names an action ("You may not task.list here"): people read what to do instead.
    const detail =
      error.code === 'FORBIDDEN'
        ? 'Your role does not include this page, or this record is not in a setting you work in. If you need it for your work, ask your team lead or the system administrator.'
        : error.message;
    render(res, principalOf(res), 'error.njk', { title, detail });
  };
  router.use(pageError);
  return router;
}

function principalOf(res: Response): Principal | undefined {
  return (res.locals as SessionLocals).principal;
}
