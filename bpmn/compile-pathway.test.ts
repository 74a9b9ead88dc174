import { compilePathway, hasLintErrors } from './compile-and-lint';
import { compilePathwayIR } from './compile-pathway';
import { PathwayCompileError } from './errors';
import { compileFixture, readFixture } from './fixtures/load-fixture';
import { IR_VERSION } from './ir';

describe('compilePathway', () => {
  it('compiles process, user task and service task with their Zeebe attributes', async () => {
    const ir = await compileFixture('sequence');

    expect(ir).toMatchObject({
      irVersion: IR_VERSION,
      processId: 'Sequence',
      name: 'Sequence',
      versionTag: '1.0',
      startEventId: 'Referred',
      properties: { setting: 'prison' },
    });
    expect(ir.elements['Assess']).toEqual({
      id: 'Assess',
      name: 'Assess needs',
      kind: 'userTask',
      incoming: ['ToAssess'],
      outgoing: ['ToNotify'],
      inputs: [{ source: { feel: '"Assessment for " + personName' }, target: 'title' }],
      outputs: [
        { source: { feel: 'score' }, target: 'assessment.score' },
        { source: { feel: 'score >= 10' }, target: 'assessment.highNeed' },
      ],
      properties: { snomed: '225338004' },
      boundaryEvents: [],
      formId: 'sms-assessment',
      assignee: { feel: 'keyWorker' },
      candidateGroups: { literal: 'sms-team, healthcare' },
      candidateUsers: { feel: '["nurse-1", "nurse-2"]' },
      dueDate: { feel: 'now() + duration("P5D")' },
      followUpDate: { feel: 'date and time(referralDate) + duration("P3D")' },
      headers: {},
      isZeebeUserTask: true,
    });
    expect(ir.elements['NotifyTeam']).toMatchObject({
      kind: 'serviceTask',
      taskType: 'notify-team',
      retries: 5,
      headers: { template: 'assessment-done' },
    });
    expect(ir.flows['ToNotify']).toEqual({
      id: 'ToNotify',
      sourceRef: 'Assess',
      targetRef: 'NotifyTeam',
      isDefault: false,
    });
  });

  it('compiles a user task priority: a literal, a FEEL expression, or none (the default)', async () => {
    const withPriority = (priority: string) =>
      compilePathwayIR(
        readFixture('sequence').replace(
          '<zeebe:taskSchedule ',
          `<zeebe:priorityDefinition priority="${priority}" /><zeebe:taskSchedule `,
        ),
      );

    const literal = await withPriority('90');
    const feel = await withPriority('=if score &gt;= 10 then 90 else 50');
    const none = await compileFixture('sequence');

    expect(literal.elements['Assess']).toMatchObject({ kind: 'userTask', priority: { literal: '90' } });
    expect(feel.elements['Assess']).toMatchObject({ priority: { feel: 'if score >= 10 then 90 else 50' } });
    expect(none.elements['Assess']).not.toHaveProperty('priority');
    expect(literal.irVersion).toBe(none.irVersion);
  });

  it('compiles conditions without the = marker and marks the default flow', async () => {
    const ir = await compileFixture('exclusive-gateway');

    expect(ir.elements['RiskLevel']).toMatchObject({ kind: 'exclusiveGateway', defaultFlow: 'Low' });
    expect(ir.flows['High']).toMatchObject({ condition: 'risk = "high"', isDefault: false });
    expect(ir.flows['Low']).toMatchObject({ isDefault: true });
    expect(ir.flows['Low']?.condition).toBeUndefined();
  });

  it('compiles timers, boundary events and their attachment', async () => {
    const ir = await compileFixture('boundary-timers');

    expect(ir.elements['FiveDayReview']?.boundaryEvents).toEqual(['DailyReminder', 'Overdue']);
    expect(ir.elements['DailyReminder']).toMatchObject({
      kind: 'boundaryEvent',
      attachedTo: 'FiveDayReview',
      interrupting: false,
      trigger: { type: 'timer', timer: { timerType: 'cycle', value: { literal: 'R3/P1D' } } },
    });
    expect(ir.elements['Overdue']).toMatchObject({
      interrupting: true,
      trigger: {
        type: 'timer',
        timer: { timerType: 'duration', value: { feel: 'duration("P" + string(overdueAfterDays) + "D")' } },
      },
    });
  });

  it('compiles messages with their correlation keys and event-based gateways', async () => {
    const ir = await compileFixture('event-gateway');

    expect(ir.elements['ReleaseOrReview']?.kind).toBe('eventBasedGateway');
    expect(ir.elements['Released']).toMatchObject({
      kind: 'intermediateCatchEvent',
      trigger: { type: 'message', messageName: { literal: 'release' }, correlationKey: { feel: 'caseId' } },
      outputs: [{ source: { feel: 'releaseDate' }, target: 'releasedOn' }],
    });
    expect(ir.elements['ReviewDue']).toMatchObject({
      trigger: { type: 'timer', timer: { timerType: 'duration', value: { literal: 'P28D' } } },
    });
  });

  it('compiles error codes, terminate end events and call activities', async () => {
    const errors = await compileFixture('error-boundary');
    const end = await compileFixture('error-end');
    const terminate = await compileFixture('terminate-end');
    const call = await compileFixture('call-activity');

    expect(errors.elements['NotFound']).toMatchObject({
      trigger: { type: 'error', errorCode: 'PATIENT_NOT_FOUND', errorName: 'Patient not found' },
    });
    expect(errors.elements['LookupPatient']).toMatchObject({ taskType: 'pds-lookup', retries: 2 });
    expect(end.elements['NotEligible']).toMatchObject({
      kind: 'endEvent',
      trigger: { type: 'error', errorCode: 'NOT_ELIGIBLE' },
    });
    expect(terminate.elements['Stop']).toMatchObject({ trigger: { type: 'terminate' } });
    expect(call.elements['RunReview']).toMatchObject({
      kind: 'callActivity',
      processId: { literal: 'ChildReview' },
      propagateAllChildVariables: false,
      propagateAllParentVariables: false,
    });
    expect(call.elements['ReviewFailed']).toMatchObject({ trigger: { type: 'error' } });
  });

  it("records the none start event's form as the start form, and none when it has no form", async () => {
    const withForm = await compilePathwayIR(
      readFixture('sequence').replace(
        '<bpmn:startEvent id="Referred" name="Referred">',
        '<bpmn:startEvent id="Referred" name="Referred"><bpmn:extensionElements><zeebe:formDefinition formId="sequence-start" /></bpmn:extensionElements>',
      ),
    );
    const withoutForm = await compileFixture('sequence');

    expect(withForm.startFormId).toBe('sequence-start');
    expect(withForm.elements['Referred']).toMatchObject({ kind: 'startEvent', formId: 'sequence-start' });
    expect(withoutForm).not.toHaveProperty('startFormId');
    expect(withoutForm.irVersion).toBe(withForm.irVersion);
  });

  it('lints a start form that is not published as an error', async () => {
    const xml = readFixture('sequence').replace(
      '<bpmn:startEvent id="Referred" name="Referred">',
      '<bpmn:startEvent id="Referred" name="Referred"><bpmn:extensionElements><zeebe:formDefinition formId="sequence-start" /></bpmn:extensionElements>',
    );
    const options = { taskTypes: ['notify-team'] };

    const unknown = await compilePathway(xml, { ...options, formIds: ['sms-assessment'] });
    const known = await compilePathway(xml, { ...options, formIds: ['sms-assessment', 'sequence-start'] });

    expect(unknown.findings.filter((finding) => finding.severity === 'error')).toEqual([
      expect.objectContaining({ id: 'Referred', rule: 'throughcare/start-event-form' }),
    ]);
    expect(hasLintErrors(known.findings)).toBe(false);
  });

  it('keeps elements it does not execute as unsupported so lint can name them', async () => {
    const ir = await compilePathwayIR(
      readFixture('sequence').replace(
        '<bpmn:endEvent id="Done" name="Done"><bpmn:incoming>ToDone</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:scriptTask id="Done" name="Script"><bpmn:incoming>ToDone</bpmn:incoming></bpmn:scriptTask>',
      ),
    );

    expect(ir.elements['Done']).toMatchObject({ kind: 'unsupported', bpmnType: 'bpmn:ScriptTask' });
  });

  it('links nodes by their flows when the XML omits incoming and outgoing, as hand-written BPMN may', async () => {
    const withLists = await compilePathwayIR(readFixture('sequence'));
    const withoutLists = await compilePathwayIR(
      readFixture('sequence').replace(/<bpmn:(incoming|outgoing)>[^<]*<\/bpmn:\1>/g, ''),
    );
    expect(withoutLists).toEqual(withLists);
    expect(withoutLists.elements.Referred?.outgoing).toEqual(['ToAssess']);
    expect(withoutLists.elements.Done?.incoming).toEqual(['ToDone']);
  });

  it('produces JSON that survives a round trip unchanged', async () => {
    const ir = await compileFixture('message-boundary');

    expect(JSON.parse(JSON.stringify(ir))).toEqual(ir);
  });

  it('returns the IR with lint findings as data', async () => {
    const { ir, findings } = await compilePathway(readFixture('sequence'), {
      taskTypes: ['notify-team'],
      formIds: ['sms-assessment'],
    });

    expect(ir.processId).toBe('Sequence');
    expect(hasLintErrors(findings)).toBe(false);
  });

  it('throws a coded error only when the XML cannot be read', async () => {
    await expect(compilePathway('<not-bpmn')).rejects.toMatchObject({ code: 'BPMN_INVALID_XML' });
    await expect(compilePathway('<not-bpmn')).rejects.toBeInstanceOf(PathwayCompileError);
  });

  it('throws when the definitions contain no process', async () => {
    const xml =
      '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x" />';

    await expect(compilePathwayIR(xml)).rejects.toMatchObject({ code: 'BPMN_NO_PROCESS' });
  });
});
