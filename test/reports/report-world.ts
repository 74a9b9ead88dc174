/**
 * Builders for the reports' tests: rows written straight into the record store and the worklist projection (no
 * workflow runs), so each test knows exactly what happened and when. Every row is valid as the activities would
 * write it; what a builder is not told gets a plain default.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@mikro-orm/knex';
import { nextValidNhsNumber } from '../store/seed';

export interface SeededCase {
  readonly caseId: string;
  readonly patientId: string;
  readonly nhsNumber: string;
  readonly workflowId: string;
}

export interface CaseSeed {
  /** ODS code of the setting it is opened in. */
  readonly setting: string;
  /** ODS code of a setting it is handed over to afterwards (recorded an hour after it was opened). */
  readonly handedOverTo?: string;
  readonly pathwayId?: string;
  readonly status?: 'open' | 'closed';
  readonly openedAt?: string;
  /** The same person as another case. */
  readonly patientOf?: SeededCase;
  readonly demographics?: Record<string, unknown>;
}

export interface TaskSeed {
  readonly elementId: string;
  readonly status?: 'open' | 'planned' | 'started' | 'completed' | 'cancelled';
  readonly dueAt?: string | null;
  readonly completedAt?: string;
  readonly assignee?: string | null;
  readonly candidateGroups?: readonly string[];
}

export interface AssessmentSeed {
  readonly submittedAt: string;
  readonly snomedCodes?: readonly string[];
  /** The assessment this one corrects. */
  readonly corrects?: string;
}

export class ReportWorld {
  private readonly settingIds = new Map<string, string>();
  private taskCount = 0;

  constructor(private readonly knex: Knex) {}

  async setting(odsCode: string, name: string, kind: 'prison' | 'custody_suite' = 'prison'): Promise<void> {
    const id = randomUUID();
    await this.knex('settings').insert({
      id,
      ods_code: odsCode,
      name,
      kind,
      prison_type: kind === 'prison' ? 'HMP' : null,
    });
    this.settingIds.set(odsCode, id);
  }

  /** A setting that exists already (the product's demo settings), for cases to be opened in. */
  async knownSetting(odsCode: string): Promise<void> {
    const row = await this.knex('settings').where({ ods_code: odsCode }).first<{ id: string } | undefined>('id');
    if (!row) throw new Error(`No setting ${odsCode}`);
    this.settingIds.set(odsCode, row.id);
  }

  async staff(subject: string, displayName: string): Promise<string> {
    const id = randomUUID();
    await this.knex('staff').insert({ id, subject, display_name: displayName, roles: ['clinician'] });
    return id;
  }

  async case(seed: CaseSeed): Promise<SeededCase> {
    const openedAt = seed.openedAt ?? '2026-06-01T09:00:00Z';
    let patientId = seed.patientOf?.patientId;
    let nhsNumber = seed.patientOf?.nhsNumber;
    if (!patientId || !nhsNumber) {
      patientId = randomUUID();
      nhsNumber = nextValidNhsNumber();
      await this.knex('patients').insert({
        id: patientId,
        nhs_number: nhsNumber,
        demographics: seed.demographics ? JSON.stringify(seed.demographics) : null,
      });
    }
    const caseId = randomUUID();
    const workflowId = `case-${caseId}`;
    const closed = seed.status === 'closed';
    await this.knex('cases').insert({
      id: caseId,
      patient_id: patientId,
      setting_id: this.settingId(seed.setting),
      pathway_id: seed.pathwayId ?? 'sms-prison',
      pathway_version: 1,
      workflow_id: workflowId,
      status: closed ? 'closed' : 'open',
      opened_at: openedAt,
      closed_at: closed ? '2026-11-01T09:00:00Z' : null,
    });
    await this.knex('case_settings').insert({
      case_id: caseId,
      setting_id: this.settingId(seed.setting),
      reason: 'opened',
      recorded_at: openedAt,
      recorded_by: 'test',
    });
    if (seed.handedOverTo)
      await this.knex('case_settings').insert({
        case_id: caseId,
        setting_id: this.settingId(seed.handedOverTo),
        reason: 'handed-over',
        recorded_at: new Date(Date.parse(openedAt) + 3_600_000).toISOString(),
        recorded_by: 'test',
      });
    return { caseId, patientId, nhsNumber, workflowId };
  }

  async task(of: SeededCase, seed: TaskSeed): Promise<string> {
    const id = `${of.workflowId}/${seed.elementId}/${++this.taskCount}`;
    const status = seed.status ?? 'open';
    await this.knex('worklist_tasks').insert({
      id,
      case_id: of.caseId,
      workflow_id: of.workflowId,
      element_id: seed.elementId,
      name: seed.elementId,
      status,
      assignee: seed.assignee ?? null,
      candidate_groups: seed.candidateGroups ?? ['sms-team'],
      due_at: seed.dueAt ?? null,
      completed_at: status === 'completed' ? (seed.completedAt ?? '2026-06-02T09:00:00Z') : null,
      completed_late:
        status === 'completed' && seed.dueAt && seed.completedAt
          ? Date.parse(seed.completedAt) > Date.parse(seed.dueAt)
          : false,
      started_task_id: status === 'started' ? `${id}/opened` : null,
    });
    return id;
  }

  /** A task of each due date, all alike: for figures that need many. */
  async tasks(of: SeededCase, seed: TaskSeed, dueAndDone: readonly [string, string?][]): Promise<void> {
    for (const [dueAt, completedAt] of dueAndDone)
      await this.task(of, { ...seed, dueAt, ...(completedAt ? { completedAt } : {}) });
  }

  async assessment(
    of: SeededCase,
    formId: string,
    data: Record<string, unknown>,
    seed: AssessmentSeed,
  ): Promise<string> {
    const id = randomUUID();
    await this.knex('assessments').insert({
      id,
      patient_id: of.patientId,
      case_id: of.caseId,
      form_id: formId,
      form_version: '1',
      data: JSON.stringify(data),
      snomed_codes: seed.snomedCodes ?? [],
      submitted_by: 'test',
      submitted_at: seed.submittedAt,
      corrects_id: seed.corrects ?? null,
      correction_reason: seed.corrects ? 'corrected in a test' : null,
    });
    return id;
  }

  async appointment(
    of: SeededCase,
    seed: {
      startsAt: string;
      status: 'booked' | 'attended' | 'missed' | 'cancelled';
      kind?: string;
      agency?: string;
      createdAt?: string;
    },
  ): Promise<string> {
    const id = randomUUID();
    await this.knex('appointments').insert({
      id,
      patient_id: of.patientId,
      case_id: of.caseId,
      starts_at: seed.startsAt,
      location: 'Surgery',
      agency: seed.agency ?? (seed.kind === 'probation' ? 'Leeds PDU' : 'Leeds GP'),
      kind: seed.kind ?? 'gp',
      status: seed.status,
      booked_by: 'test',
      created_at: seed.createdAt ?? '2026-06-01T09:00:00Z',
    });
    return id;
  }

  async notification(
    of: SeededCase,
    staffId: string,
    seed: { template: string; status: 'pending' | 'sent' | 'failed'; createdAt: string },
  ): Promise<void> {
    await this.knex('notification_outbox').insert({
      id: `${of.workflowId}/notify/${randomUUID()}`,
      patient_id: of.patientId,
      case_id: of.caseId,
      staff_id: staffId,
      channel: 'email',
      template: seed.template,
      personalisation: JSON.stringify({ service: 'Leeds GP' }),
      status: seed.status,
      created_at: seed.createdAt,
      sent_at: seed.status === 'sent' ? seed.createdAt : null,
    });
  }

  private settingId(odsCode: string): string {
    const id = this.settingIds.get(odsCode);
    if (!id) throw new Error(`no setting ${odsCode} in this world`);
    return id;
  }
}

/** A TOP (secure setting) as the form saves it, with the values a test cares about and zeros elsewhere. */
export function topAnswers(
  stage: 'start' | 'review' | 'exit',
  interviewDate: string,
  values: {
    alcohol?: (number | null)[];
    opiates?: (number | null)[];
    daysInjected?: number | null;
    psychologicalHealth?: number | null;
    physicalHealth?: number | null;
    qualityOfLife?: number | null;
  } = {},
): Record<string, unknown> {
  const weeks = (w: (number | null)[] | undefined) => ({ weeklyDays: w ?? [0, 0, 0, 0] });
  return {
    treatmentStage: stage,
    interviewDate,
    periodCovered: stage === 'start' ? '4-weeks-before-custody' : 'past-28-days',
    substanceUse: {
      alcohol: { ...weeks(values.alcohol), unitsPerUsingDay: null },
      opiates: { ...weeks(values.opiates), gramsPerUsingDay: null },
      crack: { ...weeks(undefined), gramsPerUsingDay: null },
      cocaine: { ...weeks(undefined), gramsPerUsingDay: null },
      amphetamines: { ...weeks(undefined), gramsPerUsingDay: null },
      cannabis: { ...weeks(undefined), spliffsPerUsingDay: null },
      otherSubstance: { name: null, ...weeks(undefined) },
      tobacco: weeks(undefined),
    },
    injectingRiskBehaviour: {
      daysInjected: values.daysInjected === undefined ? 0 : values.daysInjected,
      sharedNeedleOrSyringe: false,
      sharedSpoonWaterOrFilter: false,
    },
    crime: {
      shopliftingDays: 0,
      drugSellingDays: 0,
      vehicleTheftDays: 0,
      otherTheftOrBurglaryDays: 0,
      fraudOrForgery: false,
      assaultOrViolence: false,
    },
    healthAndSocialFunctioning: {
      psychologicalHealth: values.psychologicalHealth === undefined ? 10 : values.psychologicalHealth,
      physicalHealth: values.physicalHealth === undefined ? 10 : values.physicalHealth,
      qualityOfLife: values.qualityOfLife === undefined ? 10 : values.qualityOfLife,
      paidWorkDays: 0,
      educationDays: 0,
      acuteHousingProblem: false,
      atRiskOfEviction: false,
    },
  };
}
