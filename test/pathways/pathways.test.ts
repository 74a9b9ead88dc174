/**
 * The shipped BPMN pathways: they parse with bpmn-moddle and the Zeebe vocabulary without warnings, lint
 * clean with bpmn/'s compiler and linter, use only forms that exist and service task types that the README
 * lists, have meaningful ids and a diagram, record only SNOMED CT codes from the reference, and carry the
 * clinical rules the brief asks for (SMS order, brief intervention only when required, review timers
 * relative to the reception date, missed appointments notifying contacts and alerting the team).
 */
import fs from 'node:fs';
import path from 'node:path';
import BpmnModdle from 'bpmn-moddle';
import zeebe from 'zeebe-bpmn-moddle/resources/zeebe.json';
import { compilePathway, evaluateFeel, type PathwayElement, type PathwayIR } from '../../bpmn';
import {
  createFormValidator,
  FORMS_DIRECTORY,
  PATHWAYS,
  PATHWAYS_DIRECTORY,
  SERVICE_TASK_TYPES,
  listFormIds,
  readFormSchema,
  readPathwayXml,
  type PathwayId,
} from '../../pathways';
import { INCIDENT_FORM_ID, start } from '../../workflows/pathway';

type Element = PathwayElement;
const README = fs.readFileSync(path.join(PATHWAYS_DIRECTORY, 'README.md'), 'utf8');
/** The README's "Service task types" section: the contract the activity registry must meet. */
const SERVICE_TASK_SECTION = README.split(/^## /m).find((section) => section.startsWith('Service task types')) ?? '';
/** The first cell of each row of that section's table (Prettier pads cells, so spacing varies). */
const LISTED_TASK_TYPES = [...SERVICE_TASK_SECTION.matchAll(/^\| `([a-z]+\.[A-Za-z]+)` +\|/gm)].map((m) => m[1]);
const SNOMED = JSON.parse(fs.readFileSync(path.join(PATHWAYS_DIRECTORY, 'codes', 'snomed-ct.json'), 'utf8')) as {
  codes: { code: string; source: string; verifiedAgainstUkEdition: boolean }[];
};
/** SNOMED CT concept ids listed in ../shared/domain/REFERENCE.md section 7.3 (copied; the file is outside the repo). */
const REFERENCE_SNOMED_CODES = [
  '201521000000104',
  '1099141000000106',
  '304301000000105',
  '109201000000109',
  '23951000087100',
  '23941000087103',
  '788125002',
  '700187009',
  '494041000000102',
  '313104000',
  '948211000000107',
  '446701002',
  '89301000000108',
  '1082631000000102',
  '1082641000000106',
  '366371000000105',
  '366421000000103',
  '66590003',
  '75544000',
  '196981000000101',
  '163001000000103',
  '163141000000104',
];
/** Ids that modellers generate when nobody names an element (`Activity_0x7f3a9b`, `Flow_1d2e3f4`). */
const GENERATED_ID =
  /^(Activity|Event|Gateway|Flow|StartEvent|EndEvent|Task|SequenceFlow|Process|Message|DataObject)_[0-9a-z]{5,8}$/;

const compiled = new Map<PathwayId, Awaited<ReturnType<typeof compilePathway>>>();
async function compiledPathway(processId: PathwayId): Promise<Awaited<ReturnType<typeof compilePathway>>> {
  const known = compiled.get(processId);
  if (known) return known;
  const result = await compilePathway(readPathwayXml(processId), {
    taskTypes: SERVICE_TASK_TYPES,
    formIds: listFormIds(),
  });
  compiled.set(processId, result);
  return result;
}

function elementsOfKind<K extends Element['kind']>(ir: PathwayIR, kind: K): Extract<Element, { kind: K }>[] {
  return Object.values(ir.elements).filter((e): e is Extract<Element, { kind: K }> => e.kind === kind);
}

function byId(ir: PathwayIR, id: string): Element {
  const element = ir.elements[id];
  if (!element) throw new Error(`no element ${id}`);
  return element;
}

/** Shortest number of sequence flows from the start event to each element (boundary events count as one step from their host). */
function distancesFromStart(ir: PathwayIR): Map<string, number> {
  const distance = new Map<string, number>([[ir.startEventId, 0]]);
  const queue = [ir.startEventId];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    const element = byId(ir, id);
    const next = [
      ...element.outgoing.map((flowId) => ir.flows[flowId]?.targetRef ?? ''),
      ...element.boundaryEvents,
    ].filter((target) => target !== '');
    for (const target of next) {
      if (distance.has(target)) continue;
      distance.set(target, (distance.get(id) ?? 0) + 1);
      queue.push(target);
    }
  }
  return distance;
}

function feelOf(value: { feel: string } | { literal: string }): string {
  if ('literal' in value) throw new Error(`expected FEEL, got literal ${value.literal}`);
  return value.feel;
}

function outputsOf(element: Element): Record<string, unknown> {
  return Object.fromEntries(
    element.outputs.map((o) => [o.target, 'feel' in o.source ? `=${o.source.feel}` : o.source.literal]),
  );
}

describe.each(PATHWAYS.map((p) => [p.file, p] as const))('%s', (_file, pathway) => {
  const xml = fs.readFileSync(path.join(PATHWAYS_DIRECTORY, pathway.file), 'utf8');

  it('parses with bpmn-moddle and the Zeebe vocabulary without warnings', async () => {
    const moddle = new BpmnModdle({ zeebe });
    const { rootElement, warnings } = await moddle.fromXML(xml);
    expect(warnings).toEqual([]);
    expect(rootElement.$type).toBe('bpmn:Definitions');
  });

  it('compiles and lints clean with bpmn/ (no errors, no warnings)', async () => {
    const { ir, findings } = await compiledPathway(pathway.processId);
    expect(findings).toEqual([]);
    expect(ir.processId).toBe(pathway.processId);
  });

  it('gives every user task a Zeebe user task, a form whose schema exists, and a candidate group', async () => {
    const { ir } = await compiledPathway(pathway.processId);
    for (const task of elementsOfKind(ir, 'userTask')) {
      expect({ id: task.id, zeebe: task.isZeebeUserTask }).toEqual({ id: task.id, zeebe: true });
      expect(fs.existsSync(path.join(FORMS_DIRECTORY, `${task.formId ?? 'none'}.schema.json`))).toBe(true);
      expect(task.candidateGroups).toBeDefined();
    }
  });

  it('declares its start variables in a start form on its none start event, whose example validates and starts it', async () => {
    const { ir } = await compiledPathway(pathway.processId);
    const formId = `${pathway.processId}-start`;
    expect(ir.startFormId).toBe(formId);
    expect(byId(ir, ir.startEventId)).toMatchObject({ kind: 'startEvent', trigger: { type: 'none' }, formId });
    const examples = JSON.parse(
      fs.readFileSync(path.join(FORMS_DIRECTORY, 'examples', `${formId}.examples.json`), 'utf8'),
    ) as { valid: Record<string, unknown> };
    expect(createFormValidator().validate(formId, examples.valid)).toEqual({ valid: true });
    // the engine adds these; the start form must not ask the person starting the case for them
    expect(readFormSchema(formId).required ?? []).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(caseId|nhsNumber|settingOdsCode)$/)]),
    );

    const engineVariables = { caseId: 'case-1', nhsNumber: '9000000009', settingOdsCode: 'XCUS01' };
    const step = start(ir, { ...examples.valid, ...engineVariables }, '2026-11-23T09:30:00.000Z');
    expect(step.state.error).toBeUndefined();
    expect(step.state.status).toBe('active');
  });

  it('uses only service task types that the README lists', async () => {
    const { ir } = await compiledPathway(pathway.processId);
    for (const task of elementsOfKind(ir, 'serviceTask')) {
      expect(SERVICE_TASK_TYPES).toContain(task.taskType);
      expect(LISTED_TASK_TYPES).toContain(task.taskType);
      // The SCR fetch retries an outage in the background for hours (the SCR API's schedule): 8 attempts.
      expect({ id: task.id, retries: task.retries }).toEqual({
        id: task.id,
        retries: task.taskType === 'scr.fetchSummary' ? 8 : 3,
      });
    }
  });

  it('has meaningful ids and a diagram shape or edge for every element', async () => {
    const moddle = new BpmnModdle({ zeebe });
    const { rootElement, elementsById } = await moddle.fromXML(xml);
    const ids = Object.keys(elementsById);
    expect(ids.filter((id) => GENERATED_ID.test(id))).toEqual([]);
    const { ir } = await compiledPathway(pathway.processId);
    const drawn = new Set(
      (rootElement.diagrams as { plane: { planeElement: { bpmnElement: { id: string } }[] } }[]).flatMap((d) =>
        d.plane.planeElement.map((p) => p.bpmnElement.id),
      ),
    );
    const missing = [...Object.keys(ir.elements), ...Object.keys(ir.flows)].filter((id) => !drawn.has(id));
    expect(missing).toEqual([]);
  });

  it('records only SNOMED CT codes that the reference lists and codes/snomed-ct.json registers', () => {
    const registered = SNOMED.codes.map((c) => c.code);
    // namespace URIs carry dates such as 20100524: look past the definitions tag
    const body = xml.replace(/<bpmn:definitions[^>]*>/, '');
    const used = new Set(body.match(/\b\d{8,18}\b/g) ?? []);
    if (pathway.processId === 'sms-prison') {
      expect([...used]).toEqual(
        expect.arrayContaining(['201521000000104', '109201000000109', '366371000000105', '494041000000102']),
      );
    }
    for (const code of used) {
      expect(registered).toContain(code);
      expect(REFERENCE_SNOMED_CODES).toContain(code);
    }
  });
});

describe('forms and codes', () => {
  it('registers only reference SNOMED CT codes, none of them marked verified', () => {
    for (const entry of SNOMED.codes) {
      expect(REFERENCE_SNOMED_CODES).toContain(entry.code);
      expect(entry.verifiedAgainstUkEdition).toBe(false);
    }
  });

  it('uses in forms only registered SNOMED CT codes', () => {
    const registered = SNOMED.codes.map((c) => c.code);
    for (const formId of listFormIds()) {
      const text = JSON.stringify(readFormSchema(formId));
      for (const code of text.match(/"\d{8,18}"/g) ?? []) expect(registered).toContain(code.slice(1, -1));
    }
  });

  it('is used: every form is named by some user task or start event, or by the tasks incidents open', async () => {
    // A retired form is kept for the cases that started on an earlier pathway version and still have its task open.
    const retired = listFormIds().filter(
      (id) => (readFormSchema(id)['x-throughcare-form'] as { retired?: string }).retired,
    );
    const used = new Set<string>([INCIDENT_FORM_ID, ...retired]);
    for (const { processId } of PATHWAYS) {
      const { ir } = await compiledPathway(processId);
      for (const task of elementsOfKind(ir, 'userTask')) used.add(task.formId ?? '');
      used.add(ir.startFormId ?? '');
    }
    expect(listFormIds().filter((id) => !used.has(id))).toEqual([]);
  });

  it('lists in the README exactly the service task types the catalogue declares', () => {
    const listed = [...LISTED_TASK_TYPES].sort();
    expect(listed).toEqual([...SERVICE_TASK_TYPES].sort());
  });
});

describe('sms-prison', () => {
  // Monday 2 March 2026, 14:30 GMT; the clocks go forward on Sunday 29 March.
  const RECEPTION = '2026-03-02T14:30:00Z';

  /** The schedule (SetReviewSchedule's defaults, then MilestonesDated's calendar deadlines) for a reception. */
  async function scheduleVariables(overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const { ir } = await compiledPathway('sms-prison');
    const variables: Record<string, unknown> = { receptionDate: RECEPTION, ...overrides };
    for (const id of ['SetReviewSchedule', 'MilestonesDated']) {
      for (const output of byId(ir, id).outputs) {
        const value: unknown = evaluateFeel(feelOf(output.source), variables, 0);
        // a FEEL date and time: its ISO text, as the interpreter keeps it
        variables[output.target] =
          value !== null && typeof value === 'object' ? (value as { toString(): string }).toString() : value;
      }
    }
    return variables;
  }

  function instant(expression: string, variables: Record<string, unknown>): string {
    const value = evaluateFeel(expression, variables, Date.parse(RECEPTION)) as { toString(): string };
    return new Date(Date.parse(value.toString())).toISOString();
  }

  it('runs the stages in the order the service runs them', async () => {
    const { ir } = await compiledPathway('sms-prison');
    const distance = distancesFromStart(ir);
    const order = [
      'ReceptionScreening',
      'ReferToSms',
      'DualDiagnosis',
      'RiskAssessment',
      'AssignCaseload',
      'BriefInterventionNeeded',
      'TopAtStart',
      'FiveDayReview',
      'TwentyEightDayReview',
      'ThirteenWeekReview',
      'CarePlan',
      'RecallWatch',
      'ClinicalReports',
    ];
    const steps = order.map((id) => distance.get(id) ?? Number.NaN);
    expect(steps.every((step, i) => i === 0 || step > (steps[i - 1] ?? Infinity))).toBe(true);
  });

  it('delivers a brief intervention only when the risk assessment requires one', async () => {
    const { ir } = await compiledPathway('sms-prison');
    const gateway = byId(ir, 'BriefInterventionNeeded');
    expect(gateway.kind).toBe('exclusiveGateway');
    const flows = gateway.outgoing.map((id) => ir.flows[id]);
    const toIntervention = flows.find((f) => f?.targetRef === 'BriefIntervention');
    expect(toIntervention?.condition).toBe('briefInterventionRequired');
    const bypass = flows.find((f) => f?.targetRef !== 'BriefIntervention');
    expect(gateway.kind === 'exclusiveGateway' && gateway.defaultFlow).toBe(bypass?.id);
    expect(outputsOf(byId(ir, 'RiskAssessment'))['briefInterventionRequired']).toBe('=briefInterventionRequired');
  });

  it.each([
    // review, due at the end of the London day (GMT until 29 March, BST after), reminder at the start of that day,
    // overdue from the start of the next, escalation two whole days after it
    [
      'FiveDay',
      '2026-03-07T23:59:59.000Z',
      '2026-03-07T00:00:00.000Z',
      '2026-03-08T00:00:00.000Z',
      '2026-03-10T00:00:00.000Z',
    ],
    [
      'TwentyEightDay',
      '2026-03-30T22:59:59.000Z',
      '2026-03-29T23:00:00.000Z',
      '2026-03-30T23:00:00.000Z',
      '2026-04-01T23:00:00.000Z',
    ],
    [
      'ThirteenWeek',
      '2026-06-01T22:59:59.000Z',
      '2026-05-31T23:00:00.000Z',
      '2026-06-01T23:00:00.000Z',
      '2026-06-03T23:00:00.000Z',
    ],
  ])(
    'makes the %sReview due at the end of a London calendar day (%s) and watches it from reception: reminder, overdue to the team lead and keyworker, escalation',
    async (prefix, due, remind, overdue, escalate) => {
      const { ir } = await compiledPathway('sms-prison');
      const variables = await scheduleVariables();
      const task = byId(ir, `${prefix}Review`);
      if (task.kind !== 'userTask' || !task.dueDate || !task.followUpDate) throw new Error('no due date');
      expect(task.boundaryEvents).toEqual([]);
      expect(instant(feelOf(task.dueDate), variables)).toBe(due);
      expect(instant(feelOf(task.followUpDate), variables)).toBe(remind);

      // The watch branch starts where the referral does, so it runs whether or not the review has opened.
      const watchStart = byId(ir, 'MilestoneWatches').outgoing.map((f) => ir.flows[f]?.targetRef);
      expect(watchStart).toEqual(expect.arrayContaining(['ReferToSms', `${prefix}ReviewDueSoon`]));
      const timerAt = (id: string): string => {
        const timer = byId(ir, id);
        if (timer.kind !== 'intermediateCatchEvent' || timer.trigger.type !== 'timer')
          throw new Error(`${id}: no timer`);
        return instant(feelOf(timer.trigger.timer.value), variables);
      };
      expect(timerAt(`${prefix}ReviewDueSoon`)).toBe(remind);
      expect(timerAt(`${prefix}ReviewDeadlinePassed`)).toBe(overdue);
      expect(timerAt(`${prefix}ReviewStillOpen`)).toBe(escalate);
      const typeOf = (id: string): string | undefined => {
        const element = byId(ir, id);
        return element.kind === 'serviceTask' ? element.taskType : undefined;
      };
      expect(typeOf(`Remind${prefix}Review`)).toBe('notify.notifyTeam');
      expect(typeOf(`Raise${prefix}OverdueAlert`)).toBe('records.raiseAlert');
      expect(typeOf(`Notify${prefix}ReviewOverdue`)).toBe('notify.notifyStaff');
      const notice = byId(ir, `Notify${prefix}ReviewOverdue`).inputs.find((i) => i.target === 'staffNotice');
      expect(evaluateFeel(feelOf(notice!.source), variables, 0)).toMatchObject({
        kind: 'overdue',
        duties: ['sms-team-lead', 'keyworker'],
        elementId: `${prefix}Review`,
      });
      expect(typeOf(`Escalate${prefix}Review`)).toBe('notify.notifyStaff');
    },
  );

  it.each([
    // reception (UTC), what it is in London, then the planned due instants: second stage, 5-day, 28-day, 13-week
    [
      '2026-03-24T23:30:00Z',
      '23:30 GMT Tuesday 24 March 2026; 5-day due on the day the clocks go forward',
      ['2026-03-31T22:59:59.000Z', '2026-03-29T22:59:59.000Z', '2026-04-21T22:59:59.000Z', '2026-06-23T22:59:59.000Z'],
    ],
    [
      '2026-10-20T13:10:00Z',
      '14:10 BST Tuesday 20 October 2026; 5-day due on the day the clocks go back',
      ['2026-10-27T23:59:59.000Z', '2026-10-25T23:59:59.000Z', '2026-11-17T23:59:59.000Z', '2027-01-19T23:59:59.000Z'],
    ],
    [
      '2026-10-19T22:30:00Z',
      '23:30 BST Monday 19 October 2026, late evening',
      ['2026-10-26T23:59:59.000Z', '2026-10-24T22:59:59.000Z', '2026-11-16T23:59:59.000Z', '2027-01-18T23:59:59.000Z'],
    ],
    [
      '2026-10-19T23:30:00Z',
      '00:30 BST Tuesday 20 October 2026: the London date, not the UTC one',
      ['2026-10-27T23:59:59.000Z', '2026-10-25T23:59:59.000Z', '2026-11-17T23:59:59.000Z', '2027-01-19T23:59:59.000Z'],
    ],
  ])(
    'dates the planned milestones of a reception at %s (%s) on the London calendar',
    async (receptionDate, _what, due) => {
      const { ir } = await compiledPathway('sms-prison');
      const planned = byId(ir, 'PlanMilestones').inputs.find((i) => i.target === 'plannedTasks');
      const tasks = evaluateFeel(
        feelOf(planned!.source),
        { ...(await scheduleVariables({ receptionDate })), referToSubstanceMisuseService: true },
        0,
      ) as { elementId: string; dueAt: string }[];
      expect(tasks.map((t) => t.elementId)).toEqual([
        'SecondStageHealthAssessment',
        'FiveDayReview',
        'TwentyEightDayReview',
        'ThirteenWeekReview',
      ]);
      expect(tasks.map((t) => new Date(String(t.dueAt)).toISOString())).toEqual(due);
    },
  );

  it('lets a commissioner change a milestone offset with a process variable, in days, weeks or months', async () => {
    const { ir } = await compiledPathway('sms-prison');
    const task = byId(ir, 'FiveDayReview');
    if (task.kind !== 'userTask' || !task.dueDate) throw new Error('no due date');
    expect(instant(feelOf(task.dueDate), await scheduleVariables({ fiveDayReviewAfter: 'P7D' }))).toBe(
      '2026-03-09T23:59:59.000Z',
    );
    const thirteen = byId(ir, 'ThirteenWeekReview');
    if (thirteen.kind !== 'userTask' || !thirteen.dueDate) throw new Error('no due date');
    expect(instant(feelOf(thirteen.dueDate), await scheduleVariables({ thirteenWeekReviewAfter: 'P3M' }))).toBe(
      '2026-06-02T22:59:59.000Z',
    );
  });

  it('plans the second-stage assessment, and with a referral the three reviews, in the worklist at reception', async () => {
    const { ir } = await compiledPathway('sms-prison');
    const plan = byId(ir, 'PlanMilestones');
    expect(plan.kind === 'serviceTask' && plan.taskType).toBe('worklist.planTasks');
    expect(distancesFromStart(ir).get('PlanMilestones')).toBeLessThan(distancesFromStart(ir).get('ReferToSms') ?? 0);
    const planned = plan.inputs.find((i) => i.target === 'plannedTasks');
    const evaluate = async (referToSubstanceMisuseService: boolean) =>
      evaluateFeel(feelOf(planned!.source), { ...(await scheduleVariables()), referToSubstanceMisuseService }, 0) as {
        elementId: string;
        dueAt: string;
      }[];
    expect((await evaluate(false)).map((t) => [t.elementId, new Date(String(t.dueAt)).toISOString()])).toEqual([
      ['SecondStageHealthAssessment', '2026-03-09T23:59:59.000Z'],
    ]);
    expect((await evaluate(true)).map((t) => [t.elementId, new Date(String(t.dueAt)).toISOString()])).toEqual([
      ['SecondStageHealthAssessment', '2026-03-09T23:59:59.000Z'],
      ['FiveDayReview', '2026-03-07T23:59:59.000Z'],
      ['TwentyEightDayReview', '2026-03-30T22:59:59.000Z'],
      ['ThirteenWeekReview', '2026-06-01T22:59:59.000Z'],
    ]);
  });

  it.each([
    ['AUDIT-C', 4, false, 'negative'],
    ['AUDIT-C', 5, false, 'hazardous'],
    ['AUDIT-C', 10, false, 'hazardous'],
    ['AUDIT-C', 11, false, 'possible-dependence'],
    ['AUDIT', 7, false, 'negative'],
    ['AUDIT', 8, false, 'hazardous'],
    ['AUDIT', 19, false, 'hazardous'],
    ['AUDIT', 20, false, 'possible-dependence'],
    ['AUDIT-C', 2, true, 'dependent-withdrawal'],
    [null, null, null, 'negative'],
  ])('decides the alcohol screen: %s score %s, withdrawal signs %s -> %s', async (tool, score, signs, decision) => {
    const { ir } = await compiledPathway('sms-prison');
    const reception = byId(ir, 'ReceptionScreening').outputs.find((o) => o.target === 'reception');
    const record = evaluateFeel(
      feelOf(reception!.source),
      { alcoholScreenTool: tool, alcoholScore: score, alcoholWithdrawalSigns: signs, drugUse: 'none' },
      0,
    ) as { alcoholScreen: { decision: string; score: unknown }; referralSuggested: boolean };
    expect(record.alcoholScreen).toMatchObject({ decision, score });
    expect(record.referralSuggested).toBe(decision !== 'negative');
    const gateway = byId(ir, 'AlcoholDecision');
    const taken = gateway.outgoing
      .map((id) => ir.flows[id])
      .find((f) => f?.condition && evaluateFeel(f.condition, { reception: record }, 0) === true);
    const defaultFlow = gateway.kind === 'exclusiveGateway' ? gateway.defaultFlow : undefined;
    expect(taken?.targetRef ?? ir.flows[defaultFlow ?? '']?.targetRef).toBe(
      {
        negative: 'AlcoholNoTaskNeeded',
        hazardous: 'AlcoholBriefIntervention',
        'possible-dependence': 'AlcoholAssessmentNeeded',
        'dependent-withdrawal': 'RaiseAlcoholWithdrawalAlert',
      }[decision],
    );
  });

  it('marks the first-stage screen as required before cell allocation', async () => {
    const { ir } = await compiledPathway('sms-prison');
    expect(byId(ir, 'ReceptionScreening').properties).toMatchObject({
      'throughcare:requiredBefore': 'cell-allocation',
    });
  });

  it('codes an attended review, and only an attended one, as seen in substance misuse clinic', async () => {
    const { ir } = await compiledPathway('sms-prison');
    const save = byId(ir, 'SaveFiveDayReview');
    const assessment = save.inputs.find((i) => i.target === 'assessment');
    if (!assessment) throw new Error('no assessment input');
    const evaluate = (attendance: string): unknown =>
      (evaluateFeel(feelOf(assessment.source), { fiveDayReview: { attendance } }, 0) as { snomedCode: unknown })
        .snomedCode;
    expect(evaluate('attended')).toBe('494041000000102');
    expect(evaluate('did-not-attend')).toBeNull();
  });

  it('brings a recalled person back to reception on the same case', async () => {
    const { ir } = await compiledPathway('sms-prison');
    const watch = byId(ir, 'RecallWatch');
    expect(watch.kind).toBe('eventBasedGateway');
    const recall = byId(ir, 'RecalledToCustody');
    expect(
      recall.kind === 'intermediateCatchEvent' &&
        recall.trigger.type === 'message' &&
        feelOrLiteral(recall.trigger.messageName),
    ).toBe('prison.recall');
    const distance = distancesFromStart(ir);
    const next = ir.flows[byId(ir, 'RecordRecall').outgoing[0] ?? '']?.targetRef;
    expect(next).toBe('ReceptionOrReturn');
    expect(distance.get('ReceptionOrReturn')).toBeLessThan(distance.get('ReceptionScreening') ?? 0);
  });
});

describe('custody-reception', () => {
  it('takes the visit interval from the observation level, tightened by an HCP direction', async () => {
    const { ir } = await compiledPathway('custody-reception');
    const interval = byId(ir, 'SetObservationLevel').outputs.find((o) => o.target === 'observationInterval');
    if (!interval) throw new Error('no observationInterval');
    const at = (observationLevel: string, visitIntervalMinutes: number | null = null): unknown =>
      evaluateFeel(feelOf(interval.source), { observationLevel, visitIntervalMinutes }, 0);
    expect(at('L1')).toBe('PT1H');
    expect(at('L2')).toBe('PT30M');
    expect(at('L2', 15)).toBe('PT15M');
    // checks keep a fixed schedule from when the level was set, however late the last one was written
    const next = byId(ir, 'ScheduleNextCheck').outputs.find((o) => o.target === 'observationDueAt');
    if (!next) throw new Error('no observationDueAt');
    const levelSetAt = '2026-03-28T23:10:00.000Z';
    const dueAfter = (observationCoveredUntil: string): string => {
      const variables = { levelSetAt, observationInterval: 'PT30M', observationCoveredUntil };
      return new Date(String(evaluateFeel(feelOf(next.source), variables, 0))).toISOString();
    };
    expect(dueAfter(levelSetAt)).toBe('2026-03-28T23:40:00.000Z');
    expect(dueAfter('2026-03-29T00:13:00Z')).toBe('2026-03-29T00:40:00.000Z');
    const wait = byId(ir, 'VisitIntervalElapsed');
    expect(wait.kind === 'boundaryEvent' && wait.attachedTo).toBe('ReviewObservationLevel');
    expect(wait.kind === 'boundaryEvent' && wait.trigger.type === 'timer' && feelOf(wait.trigger.timer.value)).toBe(
      'observationDueAt',
    );
  });

  it('raises alerts for the risks the screening finds, leaving a restricted PDS record to the person flag', async () => {
    const { ir } = await compiledPathway('custody-reception');
    const flags = byId(ir, 'HealthScreening').outputs.find((o) => o.target === 'riskFlags');
    if (!flags) throw new Error('no riskFlags');
    const codes = (
      evaluateFeel(
        feelOf(flags.source),
        {
          selfHarmSuicideRisk: 'current',
          alcoholUse: 'none',
          suspectedSwallowedOrConcealedDrugs: false,
          consciousnessConcern: false,
          drugUse: 'none',
          learningDisabilityOrAutism: 'no',
          patient: { restricted: true },
        },
        0,
      ) as { code: string }[]
    ).map((f) => f.code);
    // a restricted record is a flag on the person, raised by the PDS read in every pathway, not a custody alert
    expect(codes).toEqual(['SELF_HARM_RISK']);
  });

  it('refers to Liaison and Diversion only when the nurse chooses to', async () => {
    const { ir } = await compiledPathway('custody-reception');
    const gateway = byId(ir, 'LiaisonDiversionIndicated');
    const refer = gateway.outgoing.map((id) => ir.flows[id]).find((f) => f?.targetRef === 'ReferToLiaisonDiversion');
    expect(refer?.condition).toBe('liaisonDiversionReferral = "refer"');
  });

  it('carries the custody alerts into the Person Escort Record handover', async () => {
    const { ir } = await compiledPathway('custody-reception');
    const handover = byId(ir, 'RecordHandover');
    expect(handover.kind === 'serviceTask' && handover.taskType).toBe('records.recordHandover');
    const input = handover.inputs.find((i) => i.target === 'handover');
    expect(input && feelOf(input.source)).toContain('alertIds: custodyAlertIds');
  });

  it('keeps one case when the person moves between suites', async () => {
    const { ir } = await compiledPathway('custody-reception');
    const transfer = byId(ir, 'TransferredBetweenSuites');
    expect(transfer.kind === 'boundaryEvent' && transfer.trigger.type).toBe('message');
    expect(outputsOf(byId(ir, 'NotifyReceivingSuite'))['custodySuite']).toBe('=receivingSuite');
    const back = ir.flows[byId(ir, 'NotifyReceivingSuite').outgoing[0] ?? '']?.targetRef;
    expect(back).toBe('AwaitNextVisit');
  });
});

describe('release-support', () => {
  const KINDS = ['Gp', 'Sms', 'Probation', 'Housing', 'MentalHealth'];

  it.each(KINDS)(
    'waits for the %s appointment outcome or a timer after it, and on a miss notifies contacts and alerts the team',
    async (kind) => {
      const { ir } = await compiledPathway('release-support');
      const gateway = byId(ir, `Await${kind}Outcome`);
      expect(gateway.kind).toBe('eventBasedGateway');
      const triggers = gateway.outgoing
        .map((id) => byId(ir, ir.flows[id]?.targetRef ?? ''))
        .map((e) => (e.kind === 'intermediateCatchEvent' ? e.trigger.type : e.kind))
        .sort();
      expect(triggers).toEqual(['message', 'message', 'timer']);
      const missedPath = [`Record${kind}Missed`, `NotifyContacts${kind}Missed`, `Raise${kind}MissedAlert`].map((id) =>
        byId(ir, id),
      );
      expect(missedPath.map((e) => (e.kind === 'serviceTask' ? e.taskType : e.kind))).toEqual([
        'records.updateAppointment',
        'notify.notifyContacts',
        'records.raiseAlert',
      ]);
    },
  );

  it('tells only agencies that asked and family members who consented, without the location of a restricted record', async () => {
    const { ir } = await compiledPathway('release-support');
    const input = byId(ir, 'NotifyContactsGpMissed').inputs.find((i) => i.target === 'notification');
    if (!input) throw new Error('no notification input');
    const variables = {
      gpAppointmentId: 'appt-1',
      gpAppointment: {
        kind: 'gp',
        startsAt: '2026-08-14T14:00:00Z',
        location: 'Hillside Surgery',
        agencyName: 'Hillside',
      },
      agencies: [
        { name: 'Probation', notifyOnMissedAppointment: true },
        { name: 'Housing', notifyOnMissedAppointment: false },
      ],
      familyContacts: [
        { name: 'Sister', consentToNotify: true },
        { name: 'Uncle', consentToNotify: false },
      ],
    };
    type Notification = { location: unknown; agencies: { name: string }[]; familyContacts: { name: string }[] };
    const open = evaluateFeel(
      feelOf(input.source),
      { ...variables, patient: { restricted: false } },
      0,
    ) as Notification;
    expect(open.location).toBe('Hillside Surgery');
    expect(open.agencies.map((a) => a.name)).toEqual(['Probation']);
    expect(open.familyContacts.map((c) => c.name)).toEqual(['Sister']);
    const restricted = evaluateFeel(
      feelOf(input.source),
      { ...variables, patient: { restricted: true } },
      0,
    ) as Notification;
    expect(restricted.location).toBeNull();
  });

  it("picks each service's appointment from the release plan, or none", async () => {
    const { ir } = await compiledPathway('release-support');
    const pick = byId(ir, 'PlanRelease').outputs.find((o) => o.target === 'probationAppointment');
    if (!pick) throw new Error('no probationAppointment output');
    const appointments = [{ kind: 'gp', startsAt: '2026-08-14T10:00:00Z' }];
    expect(evaluateFeel(feelOf(pick.source), { appointments }, 0)).toBeNull();
    const withProbation = [...appointments, { kind: 'probation', startsAt: '2026-08-15T10:00:00Z' }];
    expect(evaluateFeel(feelOf(pick.source), { appointments: withProbation }, 0)).toEqual(withProbation[1]);
  });
});

describe('journey', () => {
  it('calls each pathway as a call activity without leaking child variables, carrying record, alerts and trace', async () => {
    const { ir } = await compiledPathway('journey');
    const calls = elementsOfKind(ir, 'callActivity');
    expect(calls.map((c) => feelOrLiteral(c.processId)).sort()).toEqual([
      'custody-reception',
      'release-support',
      'sms-prison',
    ]);
    for (const call of calls) {
      expect(call.propagateAllChildVariables).toBe(false);
      const inputs = call.inputs.map((i) => i.target);
      expect(inputs).toEqual(expect.arrayContaining(['caseId', 'nhsNumber']));
    }
    const prison = byId(ir, 'PrisonStage');
    expect(prison.inputs.map((i) => i.target)).toEqual(expect.arrayContaining(['alertIds', 'patient', 'handoverId']));
    expect(outputsOf(byId(ir, 'CustodyStage'))['alertIds']).toBe('=custodyAlertIds');
  });
});

function feelOrLiteral(value: { feel: string } | { literal: string }): string {
  return 'literal' in value ? value.literal : value.feel;
}
