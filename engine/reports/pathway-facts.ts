/**
 * What the reports read from the shipped pathways (pathways/sms-prison.bpmn, release-support.bpmn and their forms):
 * the milestones' BPMN element ids and the forms whose saved answers hold the dates and outcomes counted. Kept in
 * one place so that renaming an element or a form field is one change here (element ids are persisted API).
 */

export interface Milestone {
  readonly elementId: string;
  readonly label: string;
}

/** The review milestones whose timeliness commissioners judge (REFERENCE 4.2): due N days after reception. */
export const REVIEW_MILESTONES: readonly Milestone[] = [
  { elementId: 'FiveDayReview', label: '5-day review' },
  { elementId: 'TwentyEightDayReview', label: '28-day review' },
  { elementId: 'ThirteenWeekReview', label: '13-week review' },
];

/** Reviews a team plans its weeks around: the milestones and the Treatment Outcomes Profile reviews. */
export const UPCOMING_REVIEWS: readonly Milestone[] = [
  ...REVIEW_MILESTONES,
  { elementId: 'TopReview', label: 'TOP review' },
];

/** Every dated milestone the pathway watches and reports overdue (each has its overdue notice in the BPMN). */
export const WATCHED_MILESTONES: readonly Milestone[] = [
  { elementId: 'SecondStageHealthAssessment', label: 'Second-stage health assessment' },
  { elementId: 'AlcoholBriefIntervention', label: 'Alcohol brief intervention' },
  { elementId: 'TopAtStart', label: 'TOP at start' },
  ...REVIEW_MILESTONES,
  { elementId: 'TopReview', label: 'TOP review' },
];

export function milestoneLabel(elementId: string, milestones: readonly Milestone[] = WATCHED_MILESTONES): string {
  return milestones.find((m) => m.elementId === elementId)?.label ?? elementId;
}

/**
 * The forms whose saved answers (`assessments.data`) the reports read, with the fields they read. The reports read
 * them from `report_facts` (migration report-scope), whose trigger copies each form's day, facet and detail from
 * these fields: renaming one is a change here and a new migration replacing `throughcare_report_fact`.
 */
export const FORMS = {
  /** Day: `receptionAt` (date-time); facet: `alcoholScreen.decision`. */
  reception: 'prison-reception-sms',
  /** Day: `referralDate`; facet: `ndtmsConsent` (given | declined | not-yet-asked); detail: drugs 1-3, consent date. */
  referral: 'sms-referral',
  /** Day: `assessedAt` (date-time), the triage of the NDTMS extract. */
  riskAssessment: 'sms-risk-assessment',
  /** Day: `allocatedOn` (treatment starts when the person joins a keyworker's caseload). */
  caseloadAssignment: 'sms-caseload-assignment',
  /** Day: `deliveredOn`; facet: `outcome` (completed | partly-completed | declined). */
  briefIntervention: 'sms-brief-intervention',
  /** Day: `interviewDate`; facet: `treatmentStage` (start | review | exit | ...); the four domains from the answers. */
  top: 'top-secure-setting',
  /**
   * Day: `prisonExitDate`; detail: `prisonExitReason`, `dischargeReason`, `exitDestinationDatCode`,
   * `referralOnReleaseStatus`.
   */
  discharge: 'sms-discharge',
  /** Day: `releaseDate`. */
  releasePlan: 'release-plan',
} as const;

/** The reception screen's alcohol decision (the FEEL output of ReceptionScreening), in the order reports list them. */
export const SCREEN_RESULTS = [
  { value: 'negative', label: 'Negative' },
  { value: 'hazardous', label: 'Hazardous or harmful drinking' },
  { value: 'possible-dependence', label: 'Possible dependence' },
  { value: 'dependent-withdrawal', label: 'Dependent, with withdrawal signs' },
  { value: 'not-recorded', label: 'No reception screen recorded' },
] as const;

/** The template of the message telling agencies and family of a missed appointment (release-support.bpmn). */
export const MISSED_APPOINTMENT_TEMPLATE = 'missed-appointment';
