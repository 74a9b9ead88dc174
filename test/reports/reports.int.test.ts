/**
 * The reports' figures on a real PostgreSQL, each asserted exactly against a world seeded straight into the record
 * store and the worklist projection (report-world.ts): reviews done on time and late around the October 2026 clock
 * change, months and weeks that differ between London and UTC, small groups (suppression, primary and secondary),
 * corrections replacing what they correct, withdrawn and replaced tasks left out, a journey handed over from custody
 * to prison counted where it is now, and the NDTMS extract's consent rule. Each family of reports has settings of its
 * own, and each test asks for those.
 */
import { ValidationError } from '../../domain/errors';
import {
  briefInterventionsReport,
  caseloadReport,
  milestoneComplianceReport,
  missedAppointmentsReport,
  ndtmsExtract,
  overdueMilestonesReport,
  releaseContinuityReport,
  reportCsv,
  snomedOutcomesReport,
  topChangeReport,
  upcomingReviewsReport,
  weeklyActivityReport,
  type Figure,
} from '../../engine/reports';
import type { Store } from '../../store';
import { useMigratedStore } from '../store/store-fixture';
import { ReportWorld, topAnswers, type SeededCase } from './report-world';

/** Tuesday 10 November 2026, noon (GMT): the reports' clock. */
const NOW = new Date('2026-11-10T12:00:00Z');
const at = { now: NOW };

const COMPLIANCE = { a: 'TCMA01', b: 'TCMB01', elsewhere: 'TCMX01' };
const OPERATIONS = { a: 'TOPA01', b: 'TOPB01', custody: 'TOPC01' };
const OUTCOMES = { a: 'TOUA01', b: 'TOUB01' };
const EXTRACT = 'TEXA01';
/** The caller's settings: every world's but the compliance world's "elsewhere". */
const SCOPE = {
  settings: [
    COMPLIANCE.a,
    COMPLIANCE.b,
    OPERATIONS.a,
    OPERATIONS.b,
    OPERATIONS.custody,
    OUTCOMES.a,
    OUTCOMES.b,
    EXTRACT,
  ],
};
const SAM = 'sam@reports.test';
const PRIYA = 'priya@reports.test';

const shown = (value: number): Figure => ({ value, suppressed: false });
const hidden: Figure = { value: null, suppressed: true };
const none: Figure = { value: null, suppressed: false };

describe('reports', () => {
  const db = useMigratedStore('reports');
  let store: Store;
  let world: ReportWorld;
  const cases: Record<string, SeededCase> = {};
  let correctedReferral = '';

  beforeAll(async () => {
    store = db.store;
    world = new ReportWorld(store.orm.em.getConnection().getKnex());
    await seedCompliance();
    await seedOperations();
    await seedOutcomes();
    await seedExtract();
  });

  // -------------------------------------------------------------------------------------------------------------
  // Milestone compliance

  async function seedCompliance() {
    await world.setting(COMPLIANCE.a, 'HMP Compliance A');
    await world.setting(COMPLIANCE.b, 'HMP Compliance B');
    await world.setting(COMPLIANCE.elsewhere, 'HMP Elsewhere');
    const a = await world.case({ setting: COMPLIANCE.a });
    const done = { elementId: 'FiveDayReview', status: 'completed' } as const;
    // September, on time: the last due at 23:30 BST on 30 September (22:30 UTC).
    await world.tasks(a, done, [
      ['2026-09-05T22:59:59Z', '2026-09-05T10:00:00Z'],
      ['2026-09-10T22:59:59Z', '2026-09-09T10:00:00Z'],
      ['2026-09-15T22:59:59Z', '2026-09-15T22:00:00Z'],
      ['2026-09-20T22:59:59Z', '2026-09-20T08:00:00Z'],
      ['2026-09-30T22:30:00Z', '2026-09-30T21:00:00Z'],
    ]);
    // October, on time. Due 00:30 BST on 1 October (23:30 UTC on 30 September): October in London. Due 00:30 BST on
    // the night the clocks go back (25 October), done ten minutes before it.
    await world.tasks(a, done, [
      ['2026-09-30T23:30:00Z', '2026-09-30T23:10:00Z'],
      ['2026-10-24T23:30:00Z', '2026-10-24T23:20:00Z'],
      ['2026-10-05T22:59:59Z', '2026-10-05T09:00:00Z'],
      ['2026-10-10T22:59:59Z', '2026-10-10T09:00:00Z'],
      ['2026-10-15T22:59:59Z', '2026-10-15T09:00:00Z'],
      ['2026-10-20T22:59:59Z', '2026-10-20T09:00:00Z'],
    ]);
    // October, late. Due at the first 01:30 (BST) of 25 October, done at the second 01:15 (GMT): earlier on the
    // wall clock, 45 minutes later in time.
    await world.tasks(a, done, [
      ['2026-10-25T00:30:00Z', '2026-10-25T01:15:00Z'],
      ['2026-10-31T23:59:59Z', '2026-11-01T00:30:00Z'],
    ]);
    // Not done: planned (never reached) and past its deadline.
    await world.task(a, { elementId: 'FiveDayReview', status: 'planned', dueAt: '2026-10-28T23:59:59Z' });
    // Not counted: withdrawn, replaced by its open task, and not yet due.
    await world.task(a, { elementId: 'FiveDayReview', status: 'cancelled', dueAt: '2026-10-12T22:59:59Z' });
    await world.task(a, { elementId: 'FiveDayReview', status: 'started', dueAt: '2026-10-13T22:59:59Z' });
    await world.task(a, { elementId: 'FiveDayReview', status: 'open', dueAt: '2026-11-20T23:59:59Z' });
    const twentyEight = { elementId: 'TwentyEightDayReview', status: 'completed' } as const;
    await world.tasks(
      a,
      twentyEight,
      [1, 2, 3, 4, 5, 6, 7].map((d): [string, string] => [`2026-10-0${d}T22:59:59Z`, `2026-10-0${d}T09:00:00Z`]),
    );
    await world.tasks(a, twentyEight, [
      ['2026-10-21T22:59:59Z', '2026-10-22T09:00:00Z'],
      ['2026-10-22T22:59:59Z', '2026-10-23T09:00:00Z'],
      ['2026-10-23T22:59:59Z', '2026-10-24T09:00:00Z'],
    ]);
    const b = await world.case({ setting: COMPLIANCE.b });
    await world.tasks(b, done, [
      ['2026-10-02T22:59:59Z', '2026-10-02T09:00:00Z'],
      ['2026-10-03T22:59:59Z', '2026-10-03T09:00:00Z'],
      ['2026-10-04T22:59:59Z', '2026-10-04T09:00:00Z'],
    ]);
    const elsewhere = await world.case({ setting: COMPLIANCE.elsewhere });
    await world.tasks(elsewhere, done, [['2026-10-02T22:59:59Z', '2026-10-02T09:00:00Z']]);
  }

  describe('milestone compliance', () => {
    const ask = () =>
      milestoneComplianceReport(
        store,
        { from: '2026-09-01', to: '2026-10-31', settings: [COMPLIANCE.a, COMPLIANCE.b, COMPLIANCE.elsewhere] },
        SCOPE,
        at,
      );

    it('counts reviews done by their deadline per London month of the deadline and setting, around the clock change, with small numbers suppressed', async () => {
      const report = await ask();
      const row = (month: string, milestone: string, setting: string | null) => {
        const found = report.rows.find(
          (r) => r.month === month && r.elementId === milestone && r.settingOdsCode === setting,
        );
        if (!found) throw new Error(`no row ${month} ${milestone} ${setting}`);
        const { due, doneOnTime, doneLate, notDone, onTimeShare } = found;
        return { due, doneOnTime, doneLate, notDone, onTimeShare };
      };
      // September: the review due 23:30 BST on 30 September; not the one due 00:30 BST on 1 October.
      expect(row('2026-09', 'FiveDayReview', COMPLIANCE.a)).toEqual({
        due: shown(5),
        doneOnTime: shown(5),
        doneLate: shown(0),
        notDone: shown(0),
        onTimeShare: shown(1),
      });
      // October in A is 9 due: 6 on time, 2 late, 1 not done. Late and not done are small (primary); B's 3 due is
      // small, so beside it in the column A's 9 due and 6 on time are hidden too (secondary): all of A's row is.
      expect(row('2026-10', 'FiveDayReview', COMPLIANCE.a)).toEqual({
        due: hidden,
        doneOnTime: hidden,
        doneLate: hidden,
        notDone: hidden,
        onTimeShare: hidden,
      });
      expect(row('2026-10', 'FiveDayReview', COMPLIANCE.b)).toEqual({
        due: hidden,
        doneOnTime: hidden,
        doneLate: shown(0),
        notDone: shown(0),
        onTimeShare: hidden,
      });
      expect(row('2026-10', 'FiveDayReview', null)).toEqual({
        due: shown(12),
        doneOnTime: shown(9),
        doneLate: hidden,
        notDone: hidden,
        onTimeShare: shown(0.75),
      });
      // 28-day: 10 due, 7 on time, 3 late; the one small value in the row takes the next smallest (7) with it.
      for (const setting of [COMPLIANCE.a, null])
        expect(row('2026-10', 'TwentyEightDayReview', setting)).toEqual({
          due: shown(10),
          doneOnTime: hidden,
          doneLate: hidden,
          notDone: shown(0),
          onTimeShare: hidden,
        });
      // Every month and review has its all-settings row; nothing else (the setting outside the scope least of all).
      expect(row('2026-09', 'ThirteenWeekReview', null)).toEqual({
        due: shown(0),
        doneOnTime: shown(0),
        doneLate: shown(0),
        notDone: shown(0),
        onTimeShare: none,
      });
      expect(report.rows.map((r) => `${r.month} ${r.elementId} ${r.settingOdsCode ?? 'all'}`)).toEqual([
        `2026-09 FiveDayReview ${COMPLIANCE.a}`,
        '2026-09 FiveDayReview all',
        '2026-09 TwentyEightDayReview all',
        '2026-09 ThirteenWeekReview all',
        `2026-10 FiveDayReview ${COMPLIANCE.a}`,
        `2026-10 FiveDayReview ${COMPLIANCE.b}`,
        '2026-10 FiveDayReview all',
        `2026-10 TwentyEightDayReview ${COMPLIANCE.a}`,
        '2026-10 TwentyEightDayReview all',
        '2026-10 ThirteenWeekReview all',
      ]);
      expect(report.suppressedCount).toBe(16);
      expect(report.filters).toMatchObject({
        from: '2026-09-01',
        to: '2026-10-31',
        settings: [COMPLIANCE.a, COMPLIANCE.b],
        timeZone: 'Europe/London',
      });
      expect(JSON.stringify(report)).not.toMatch(/nhsNumber|patientId|caseId/);
    });

    it('reads each suppressed value as "< 5" in its CSV, shares as percentages', async () => {
      const csv = reportCsv(await ask());
      const lines = csv.split('\r\n');
      expect(lines[0]).toBe(
        'Month of the deadline,Setting,ODS code,Review,Due,Done by the deadline,Done late,Not done,Done by the deadline (%)',
      );
      expect(lines).toContain('2026-10,All settings,,5-day review,12,9,< 5,< 5,75.0');
      expect(lines).toContain(`2026-10,HMP Compliance A,${COMPLIANCE.a},5-day review,< 5,< 5,< 5,< 5,< 5`);
      expect(csv.endsWith('\r\n')).toBe(true);
    });

    it('counts only the pathway asked for', async () => {
      const report = await milestoneComplianceReport(
        store,
        { from: '2026-10-01', to: '2026-10-31', settings: [COMPLIANCE.a], pathwayId: 'journey' },
        SCOPE,
        at,
      );
      expect(report.rows.every((r) => r.settingOdsCode === null && r.due.value === 0)).toBe(true);
    });
  });

  // -------------------------------------------------------------------------------------------------------------
  // Operational reports

  async function seedOperations() {
    await world.setting(OPERATIONS.a, 'HMP Operations A');
    await world.setting(OPERATIONS.b, 'HMP Operations B');
    await world.setting(OPERATIONS.custody, 'Custody Operations', 'custody_suite');
    await world.staff(SAM, 'Sam Patel');
    const priyaStaff = await world.staff(PRIYA, 'Priya Shah');
    const oa1 = (cases['oa1'] = await world.case({ setting: OPERATIONS.a }));
    await world.task(oa1, { elementId: 'FiveDayReview', dueAt: '2026-11-20T23:59:59Z', assignee: SAM });
    await world.task(oa1, { elementId: 'ThirteenWeekReview', status: 'planned', dueAt: '2026-12-09T00:30:00Z' });
    await world.task(oa1, {
      elementId: 'SecondStageHealthAssessment',
      dueAt: '2026-09-01T22:59:59Z',
      candidateGroups: ['prison-healthcare'],
    });
    const oa2 = (cases['oa2'] = await world.case({ setting: OPERATIONS.a }));
    await world.task(oa2, { elementId: 'TwentyEightDayReview', dueAt: '2026-11-10T11:00:00Z', assignee: PRIYA });
    await world.task(oa2, { elementId: 'TopReview', status: 'planned', dueAt: '2026-12-08T23:59:59Z' });
    await world.task(oa2, { elementId: 'FiveDayReview', status: 'planned', dueAt: '2026-10-28T23:59:59Z' });
    // A journey opened in custody and handed over to prison A: counted in A, where it is now.
    const journey = (cases['journey'] = await world.case({
      setting: OPERATIONS.custody,
      handedOverTo: OPERATIONS.a,
      pathwayId: 'journey',
      openedAt: '2026-10-01T08:00:00Z',
    }));
    await world.task(journey, { elementId: 'FiveDayReview', dueAt: '2026-11-12T23:59:59Z', assignee: SAM });
    await world.task(journey, { elementId: 'TopAtStart', dueAt: '2026-11-03T23:59:59Z', assignee: SAM });
    const ob1 = (cases['ob1'] = await world.case({ setting: OPERATIONS.b }));
    await world.task(ob1, {
      elementId: 'TopAtStart',
      dueAt: '2026-11-02T23:59:59Z',
      candidateGroups: ['sms-team', 'sms-team-lead'],
    });
    await world.task(ob1, { elementId: 'ReferToSms', dueAt: '2026-11-15T10:00:00Z', assignee: PRIYA });
    const ob2 = await world.case({ setting: OPERATIONS.b, status: 'closed' });
    await world.task(ob2, { elementId: 'FiveDayReview', status: 'cancelled', dueAt: '2026-11-11T23:59:59Z' });
    await world.case({ setting: OPERATIONS.custody });

    // Receptions, referrals and discharges.
    const reception = (of: SeededCase, receptionAt: string) =>
      world.assessment(of, 'prison-reception-sms', { receptionAt }, { submittedAt: receptionAt });
    // 00:30 BST on Monday 19 October: the week of the 19th in London (of the 12th in UTC).
    await reception(journey, '2026-10-19T00:30:00+01:00');
    // 01:30 GMT on Sunday 25 October, after the clocks went back: still the week of the 19th.
    await reception(oa1, '2026-10-25T01:30:00+00:00');
    await reception(oa2, '2026-10-26T00:15:00Z');
    await reception(ob1, '2026-10-12T09:00:00+01:00');
    await reception(oa1, '2026-11-02T09:00:00Z');
    await world.assessment(
      oa1,
      'sms-referral',
      { referralDate: '2026-10-20' },
      { submittedAt: '2026-10-20T10:00:00Z' },
    );
    const wrong = await world.assessment(
      oa2,
      'sms-referral',
      { referralDate: '2026-10-13' },
      { submittedAt: '2026-10-27T10:00:00Z' },
    );
    await world.assessment(
      oa2,
      'sms-referral',
      { referralDate: '2026-10-27' },
      { submittedAt: '2026-10-27T11:00:00Z', corrects: wrong },
    );
    await world.assessment(
      ob1,
      'sms-discharge',
      { prisonExitDate: '2026-11-01', prisonExitReason: 'released' },
      { submittedAt: '2026-11-01T10:00:00Z' },
    );

    // Releases and their appointments.
    const releasePlan = (of: SeededCase, releaseDate: string) =>
      world.assessment(of, 'release-plan', { releaseDate }, { submittedAt: `${releaseDate}T07:00:00Z` });
    await releasePlan(oa1, '2026-10-05');
    await world.appointment(oa1, { startsAt: '2026-10-06T09:00:00+01:00', status: 'attended' });
    await releasePlan(oa2, '2026-10-10');
    await world.appointment(oa2, { startsAt: '2026-10-16T10:00:00+01:00', status: 'attended' });
    await world.appointment(oa2, {
      startsAt: '2026-10-11T10:00:00+01:00',
      status: 'missed',
      createdAt: '2026-10-01T09:00:00Z',
    });
    await world.notification(oa2, priyaStaff, {
      template: 'missed-appointment',
      status: 'sent',
      createdAt: '2026-10-11T12:00:00Z',
    });
    await releasePlan(journey, '2026-10-20');
    // 14 London days after a release in BST, in GMT.
    await world.appointment(journey, { startsAt: '2026-11-03T10:00:00Z', status: 'attended' });
    await world.appointment(journey, {
      startsAt: '2026-10-21T09:00:00+01:00',
      status: 'missed',
      kind: 'probation',
      createdAt: '2026-10-15T09:00:00Z',
    });
    await world.appointment(journey, {
      startsAt: '2026-10-28T09:00:00Z',
      status: 'booked',
      kind: 'probation',
      createdAt: '2026-10-22T09:00:00Z',
    });
    await releasePlan(ob1, '2026-10-25');
    await world.appointment(ob1, { startsAt: '2026-10-26T09:00:00Z', status: 'missed' });
    // Neither sent nor about the missed appointment: no follow-up.
    await world.notification(ob1, priyaStaff, {
      template: 'missed-appointment',
      status: 'pending',
      createdAt: '2026-10-26T12:00:00Z',
    });
    await world.notification(ob1, priyaStaff, {
      template: 'release-day',
      status: 'sent',
      createdAt: '2026-10-26T12:00:00Z',
    });
    await world.appointment(ob1, { startsAt: '2026-11-05T09:00:00Z', status: 'missed' });
  }

  const OPERATIONS_SETTINGS = [OPERATIONS.a, OPERATIONS.b, OPERATIONS.custody];

  describe('caseload', () => {
    const counts = (r: { cases: number; openTasks: number; overdueTasks: number; unassignedTasks: number }) => [
      r.cases,
      r.openTasks,
      r.overdueTasks,
      r.unassignedTasks,
    ];

    it('counts open cases and their open tasks per setting now, a handed-over journey where it is now', async () => {
      const report = await caseloadReport(store, { settings: OPERATIONS_SETTINGS }, SCOPE, at);
      expect(report.rows.map((r) => [r.settingName, ...counts(r)])).toEqual([
        ['Custody Operations', 1, 0, 0, 0],
        ['HMP Operations A', 3, 5, 3, 1],
        ['HMP Operations B', 1, 2, 1, 1],
        ['All settings', 5, 7, 4, 2],
      ]);
      expect(report.identifiable).toBe(false);
    });

    it('per team: a task offered to two teams counts in each', async () => {
      const report = await caseloadReport(store, { settings: OPERATIONS_SETTINGS, by: 'team' }, SCOPE, at);
      expect(report.rows.map((r) => [r.settingOdsCode, r.group, ...counts(r)])).toEqual([
        [OPERATIONS.a, 'prison-healthcare', 1, 1, 1, 1],
        [OPERATIONS.a, 'sms-team', 3, 4, 2, 0],
        [OPERATIONS.b, 'sms-team', 1, 2, 1, 1],
        [OPERATIONS.b, 'sms-team-lead', 1, 1, 1, 1],
        [null, 'prison-healthcare', 1, 1, 1, 1],
        [null, 'sms-team', 4, 6, 3, 1],
        [null, 'sms-team-lead', 1, 1, 1, 1],
      ]);
    });

    it('per keyworker: the assignee, named from the staff directory', async () => {
      const report = await caseloadReport(store, { settings: OPERATIONS_SETTINGS, by: 'keyworker' }, SCOPE, at);
      expect(report.rows.map((r) => [r.settingOdsCode, r.groupName, ...counts(r)])).toEqual([
        [OPERATIONS.a, 'Priya Shah', 1, 1, 1, 0],
        [OPERATIONS.a, 'Sam Patel', 2, 3, 1, 0],
        [OPERATIONS.a, null, 1, 1, 1, 1],
        [OPERATIONS.b, 'Priya Shah', 1, 1, 0, 0],
        [OPERATIONS.b, null, 1, 1, 1, 1],
        [null, 'Priya Shah', 2, 2, 1, 0],
        [null, 'Sam Patel', 2, 3, 1, 0],
        [null, null, 2, 2, 2, 2],
      ]);
      expect(report.columns.map((c) => c.label)).toContain('Keyworker');
    });
  });

  describe('upcoming reviews', () => {
    it('lists the reviews due from now to the end of the London day 28 days on, soonest first, with the person', async () => {
      const report = await upcomingReviewsReport(store, { settings: OPERATIONS_SETTINGS }, SCOPE, at);
      expect(
        report.rows.map((r) => [r.nhsNumber, r.milestone, r.status, r.dueDate, r.daysUntilDue, r.withinSevenDays]),
      ).toEqual([
        [cases['journey']!.nhsNumber, '5-day review', 'open', '2026-11-12', 2, true],
        [cases['oa1']!.nhsNumber, '5-day review', 'open', '2026-11-20', 10, false],
        [cases['oa2']!.nhsNumber, 'TOP review', 'planned', '2026-12-08', 28, false],
      ]);
      expect(report.rows[0]).toMatchObject({
        caseId: cases['journey']!.caseId,
        patientId: cases['journey']!.patientId,
        settingOdsCode: OPERATIONS.a,
        assignee: SAM,
        assigneeName: 'Sam Patel',
        dueAt: '2026-11-12T23:59:59.000Z',
      });
      expect(report.identifiable).toBe(true);
      expect(report.truncated).toBe(false);
    });

    it('in the next 7 days, and no more rows than the limit', async () => {
      const week = await upcomingReviewsReport(store, { settings: OPERATIONS_SETTINGS, withinDays: 7 }, SCOPE, at);
      expect(week.rows.map((r) => r.caseId)).toEqual([cases['journey']!.caseId]);
      const one = await upcomingReviewsReport(store, { settings: OPERATIONS_SETTINGS, limit: 1 }, SCOPE, at);
      expect(one.rows).toHaveLength(1);
      expect(one.truncated).toBe(true);
    });
  });

  it('counts overdue milestones by London days overdue: 0 to 7, 8 to 28, more than 28', async () => {
    const report = await overdueMilestonesReport(store, { settings: OPERATIONS_SETTINGS }, SCOPE, at);
    expect(
      report.rows.map((r) => [r.settingOdsCode, r.elementId, r.days0To7, r.days8To28, r.over28Days, r.total]),
    ).toEqual([
      [OPERATIONS.a, 'SecondStageHealthAssessment', 0, 0, 1, 1],
      [OPERATIONS.a, 'TopAtStart', 1, 0, 0, 1],
      [OPERATIONS.a, 'FiveDayReview', 0, 1, 0, 1],
      [OPERATIONS.a, 'TwentyEightDayReview', 1, 0, 0, 1],
      [OPERATIONS.b, 'TopAtStart', 0, 1, 0, 1],
      [null, 'SecondStageHealthAssessment', 0, 0, 1, 1],
      [null, 'TopAtStart', 1, 1, 0, 2],
      [null, 'FiveDayReview', 0, 1, 0, 1],
      [null, 'TwentyEightDayReview', 1, 0, 0, 1],
    ]);
  });

  it('counts receptions, referrals and discharges per London week, every week of the range', async () => {
    const report = await weeklyActivityReport(
      store,
      { from: '2026-10-12', to: '2026-11-01', settings: OPERATIONS_SETTINGS },
      SCOPE,
      at,
    );
    expect(report.rows.map((r) => [r.weekStarting, r.settingOdsCode, r.receptions, r.referrals, r.discharges])).toEqual(
      [
        ['2026-10-12', OPERATIONS.a, 0, 0, 0],
        ['2026-10-12', OPERATIONS.b, 1, 0, 0],
        ['2026-10-12', null, 1, 0, 0],
        ['2026-10-19', OPERATIONS.a, 2, 1, 0],
        ['2026-10-19', OPERATIONS.b, 0, 0, 0],
        ['2026-10-19', null, 2, 1, 0],
        ['2026-10-26', OPERATIONS.a, 1, 1, 0],
        ['2026-10-26', OPERATIONS.b, 0, 0, 1],
        ['2026-10-26', null, 1, 1, 1],
      ],
    );
  });

  it('counts appointments attended within 1, 7 and 14 days of release, and missed ones by their follow-up', async () => {
    const report = await releaseContinuityReport(
      store,
      { from: '2026-10-01', to: '2026-10-31', settings: OPERATIONS_SETTINGS },
      SCOPE,
      at,
    );
    expect(
      report.rows.map((r) => [
        r.settingOdsCode,
        r.releases,
        r.attendedWithin1Day,
        r.attendedWithin7Days,
        r.attendedWithin14Days,
        r.missedAppointments,
        r.missedNotified,
        r.missedRebooked,
        r.missedWithoutFollowUp,
      ]),
    ).toEqual([
      [OPERATIONS.a, 3, 1, 2, 3, 2, 1, 1, 0],
      [OPERATIONS.b, 1, 0, 0, 0, 1, 0, 0, 1],
      [null, 4, 1, 2, 3, 3, 1, 1, 1],
    ]);
  });

  it('lists missed appointments with the person and their follow-up, newest first', async () => {
    const report = await missedAppointmentsReport(
      store,
      { from: '2026-10-01', to: '2026-10-31', settings: OPERATIONS_SETTINGS },
      SCOPE,
      at,
    );
    expect(report.rows.map((r) => [r.nhsNumber, r.date, r.kind, r.notified, r.rebooked, r.rebookedFor])).toEqual([
      [cases['ob1']!.nhsNumber, '2026-10-26', 'gp', false, false, null],
      [cases['journey']!.nhsNumber, '2026-10-21', 'probation', false, true, '2026-10-28T09:00:00.000Z'],
      [cases['oa2']!.nhsNumber, '2026-10-11', 'gp', true, false, null],
    ]);
    expect(report.identifiable).toBe(true);
  });

  // -------------------------------------------------------------------------------------------------------------
  // Outcomes

  async function seedOutcomes() {
    await world.setting(OUTCOMES.a, 'HMP Outcomes A');
    await world.setting(OUTCOMES.b, 'HMP Outcomes B');
    const screen = (of: SeededCase, decision: string | null, receptionAt: string) =>
      world.assessment(
        of,
        'prison-reception-sms',
        decision === null ? { receptionAt } : { receptionAt, alcoholScreen: { tool: 'AUDIT-C', decision } },
        { submittedAt: receptionAt },
      );
    const intervention = (of: SeededCase, outcome: string, deliveredOn: string, corrects?: string) =>
      world.assessment(
        of,
        'sms-brief-intervention',
        { deliveredOn, interventionType: 'alcohol-brief', outcome, deliveredBy: 'Sam Patel' },
        { submittedAt: `${deliveredOn}T12:00:00Z`, ...(corrects ? { corrects } : {}) },
      );
    // Negative: 12 screened in October, one of them with a (drug) brief intervention; and a person screened in
    // September with one in October.
    for (let i = 0; i < 12; i++) {
      const person = await world.case({ setting: i < 8 ? OUTCOMES.a : OUTCOMES.b });
      await screen(person, 'negative', '2026-10-02T10:00:00Z');
      if (i === 0) await intervention(person, 'completed', '2026-10-06');
    }
    const screenedBefore = await world.case({ setting: OUTCOMES.a });
    await screen(screenedBefore, 'negative', '2026-09-15T10:00:00Z');
    await intervention(screenedBefore, 'completed', '2026-10-10');
    // Hazardous: 7 screened; 5 completed (one of them a correction of "declined"), 1 partly, 1 none in range. The
    // first was screened negative in September, then hazardous: the last screen before the intervention counts.
    for (let i = 0; i < 7; i++) {
      const person = await world.case({ setting: i < 4 ? OUTCOMES.a : OUTCOMES.b });
      if (i === 0) await screen(person, 'negative', '2026-09-01T10:00:00Z');
      await screen(person, 'hazardous', '2026-10-03T10:00:00Z');
      if (i < 4) await intervention(person, 'completed', '2026-10-08');
      if (i === 4) {
        const declined = await intervention(person, 'declined', '2026-10-08');
        await intervention(person, 'completed', '2026-10-09', declined);
      }
      if (i === 5) await intervention(person, 'partly-completed', '2026-10-08');
      if (i === 6) await intervention(person, 'completed', '2026-09-28');
    }
    for (let i = 0; i < 2; i++)
      await screen(await world.case({ setting: OUTCOMES.b }), 'possible-dependence', '2026-10-04T10:00:00Z');
    await screen(await world.case({ setting: OUTCOMES.a }), null, '2026-10-05T10:00:00Z');
    await intervention(await world.case({ setting: OUTCOMES.a }), 'completed', '2026-10-12');

    // TOP pairs, each review in October.
    const top = (of: SeededCase, stage: 'start' | 'review', date: string, values: Parameters<typeof topAnswers>[2]) =>
      world.assessment(of, 'top-secure-setting', topAnswers(stage, date, values), { submittedAt: `${date}T12:00:00Z` });
    const pairs: [Parameters<typeof topAnswers>[2], Parameters<typeof topAnswers>[2]][] = [
      [
        { alcohol: [7, 7, 7, 7], psychologicalHealth: 5, daysInjected: 12 },
        { alcohol: [0, 0, 1, 1], psychologicalHealth: 12, daysInjected: 0 },
      ],
      [
        { alcohol: [5, 5, 5, 5], psychologicalHealth: 8, daysInjected: null },
        { alcohol: [2, 2, 2, 2], psychologicalHealth: 10, daysInjected: null },
      ],
      [
        { alcohol: [0, 0, 0, 0], psychologicalHealth: 10, daysInjected: null },
        { alcohol: [0, 0, 0, 0], psychologicalHealth: 10, daysInjected: 3 },
      ],
      [
        { alcohol: [7, 7, 0, 0], psychologicalHealth: null, daysInjected: 0 },
        { alcohol: [0, 0, 0, 0], psychologicalHealth: 9, daysInjected: 0 },
      ],
      [
        { alcohol: [3, 3, 3, 3], psychologicalHealth: 6, daysInjected: null },
        { alcohol: [3, 3, 3, 3], psychologicalHealth: 15, daysInjected: null },
      ],
      [
        { alcohol: [7, 7, 7, null], psychologicalHealth: 12, daysInjected: 4 },
        { alcohol: [0, 0, 0, 0], psychologicalHealth: 14, daysInjected: 2 },
      ],
    ];
    for (const [k, [start, review]] of pairs.entries()) {
      const person = await world.case({ setting: k % 2 ? OUTCOMES.b : OUTCOMES.a });
      // The second person's earlier stay: a later start (a recall) replaces it.
      if (k === 1) await top(person, 'start', '2026-01-10', { alcohol: [0, 0, 0, 0], psychologicalHealth: 20 });
      await top(person, 'start', '2026-09-10', start);
      await top(person, 'review', '2026-10-05', review);
      // A second review: only the first after the start pairs with it.
      if (k === 0) await top(person, 'review', '2026-10-25', { alcohol: [7, 7, 7, 7], psychologicalHealth: 1 });
    }
    // A start with no review yet, and a pair reviewed in September: neither counts.
    await top(await world.case({ setting: OUTCOMES.a }), 'start', '2026-10-01', {});
    const september = await world.case({ setting: OUTCOMES.a });
    await top(september, 'start', '2026-08-01', { alcohol: [7, 7, 7, 7] });
    await top(september, 'review', '2026-09-30', { alcohol: [0, 0, 0, 0] });

    // Coded events in October.
    const coded = async (setting: string, codes: string[], times: number, submittedAt = '2026-10-15T12:00:00Z') => {
      for (let i = 0; i < times; i++)
        await world.assessment(await world.case({ setting }), 'sms-referral', {}, { submittedAt, snomedCodes: codes });
    };
    await coded(OUTCOMES.a, ['201521000000104'], 5);
    await coded(OUTCOMES.a, ['201521000000104', '494041000000102'], 1);
    await coded(OUTCOMES.b, ['201521000000104'], 3);
    await coded(OUTCOMES.a, ['366371000000105'], 5);
    await coded(OUTCOMES.a, ['1099141000000106'], 1);
    await coded(OUTCOMES.a, ['494041000000102'], 6);
    await coded(OUTCOMES.b, ['494041000000102'], 8);
    await coded(OUTCOMES.b, ['201521000000104'], 2, '2026-09-30T12:00:00Z');
    const corrected = await world.case({ setting: OUTCOMES.a });
    const wrong = await world.assessment(
      corrected,
      'sms-referral',
      {},
      {
        submittedAt: '2026-10-15T12:00:00Z',
        snomedCodes: ['201521000000104'],
      },
    );
    await world.assessment(corrected, 'sms-referral', {}, { submittedAt: '2026-10-16T12:00:00Z', corrects: wrong });
  }

  const OCTOBER_OUTCOMES = { from: '2026-10-01', to: '2026-10-31', settings: [OUTCOMES.a, OUTCOMES.b] };

  it('counts brief interventions by the reception screen result, suppressed as the rule says', async () => {
    const report = await briefInterventionsReport(store, OCTOBER_OUTCOMES, SCOPE, at);
    const table = report.rows.map((r) => [
      r.screenResult,
      r.screened,
      r.interventions,
      r.completed,
      r.partlyCompleted,
      r.declined,
    ]);
    // Before suppression: negative 12, 2, 2, 0, 0; hazardous 7, 6, 5, 1, 0; possible dependence 2, 0...;
    // not recorded 1, 1, 1, 0, 0; all 22, 9, 8, 1, 0. Hazardous's one small value (1 partly) takes its 5 completed
    // with it, and the total row's (1) its 8.
    expect(table).toEqual([
      ['negative', shown(12), hidden, hidden, shown(0), shown(0)],
      ['hazardous', shown(7), shown(6), hidden, hidden, shown(0)],
      ['possible-dependence', hidden, shown(0), shown(0), shown(0), shown(0)],
      ['dependent-withdrawal', shown(0), shown(0), shown(0), shown(0), shown(0)],
      ['not-recorded', hidden, hidden, hidden, shown(0), shown(0)],
      [null, shown(22), shown(9), hidden, hidden, shown(0)],
    ]);
    expect(report.suppressedCount).toBe(10);
  });

  it('measures the change from TOP at start to the first review after it, hiding a measure fewer than 5 answered', async () => {
    const report = await topChangeReport(store, OCTOBER_OUTCOMES, SCOPE, at);
    const byMeasure = Object.fromEntries(report.rows.map((r) => [r.measure, r]));
    expect(byMeasure['people']!.people).toEqual(shown(6));
    expect(byMeasure['alcohol']).toMatchObject({
      people: shown(5),
      meanAtStart: shown(14.8),
      meanAtReview: shown(4.4),
      meanChange: shown(-10.4),
    });
    expect(byMeasure['psychologicalHealth']).toMatchObject({
      people: shown(5),
      meanAtStart: shown(8.2),
      meanAtReview: shown(12.2),
      meanChange: shown(4),
    });
    expect(byMeasure['daysInjected']).toMatchObject({
      people: hidden,
      meanAtStart: hidden,
      meanAtReview: hidden,
      meanChange: hidden,
    });
    expect(byMeasure['physicalHealth']).toMatchObject({ people: shown(6), meanChange: shown(0) });
    expect(report.suppressedCount).toBe(4);
  });

  it('counts coded outcomes by SNOMED CT concept per setting, corrections replacing what they correct', async () => {
    const report = await snomedOutcomesReport(store, OCTOBER_OUTCOMES, SCOPE, at);
    expect(report.rows.map((r) => [r.code, r.settingOdsCode, r.count])).toEqual([
      ['366371000000105', OUTCOMES.a, shown(5)],
      ['366371000000105', null, shown(5)],
      ['1099141000000106', OUTCOMES.a, hidden],
      ['1099141000000106', null, hidden],
      ['201521000000104', OUTCOMES.a, hidden],
      ['201521000000104', OUTCOMES.b, hidden],
      ['201521000000104', null, shown(9)],
      ['494041000000102', OUTCOMES.a, shown(7)],
      ['494041000000102', OUTCOMES.b, shown(8)],
      ['494041000000102', null, shown(15)],
    ]);
    expect(report.rows[0]!.term).toBe('Brief intervention for excessive alcohol consumption completed');
  });

  // -------------------------------------------------------------------------------------------------------------
  // NDTMS extract

  async function seedExtract() {
    await world.setting(EXTRACT, 'HMP Extract');
    const referral = (of: SeededCase, referralDate: string, consent: string, extra: Record<string, unknown> = {}) =>
      world.assessment(
        of,
        'sms-referral',
        { referralDate, referralSource: 'reception-screen', drug1: 'opiates', ndtmsConsent: consent, ...extra },
        { submittedAt: `${referralDate}T10:00:00Z` },
      );
    const discharge = (of: SeededCase, prisonExitDate: string, extra: Record<string, unknown> = {}) =>
      world.assessment(
        of,
        'sms-discharge',
        { prisonExitDate, prisonExitReason: 'released', dischargeReason: 'treatment-completed', ...extra },
        { submittedAt: `${prisonExitDate}T15:00:00Z` },
      );
    const top = (of: SeededCase, stage: 'start' | 'review' | 'exit', date: string) =>
      world.assessment(of, 'top-secure-setting', topAnswers(stage, date), { submittedAt: `${date}T12:00:00Z` });

    const e1 = (cases['e1'] = await world.case({
      setting: EXTRACT,
      demographics: { birthDate: '1990-04-01', gender: 'male' },
    }));
    await world.assessment(
      e1,
      'prison-reception-sms',
      { receptionAt: '2026-09-28T10:00:00+01:00' },
      {
        submittedAt: '2026-09-28T09:10:00Z',
      },
    );
    await referral(e1, '2026-09-29', 'given', { drug2: 'crack', ndtmsConsentDate: '2026-09-29' });
    // 00:30 BST on 1 October: triaged on the 1st in London.
    await world.assessment(
      e1,
      'sms-risk-assessment',
      { assessedAt: '2026-09-30T23:30:00Z' },
      {
        submittedAt: '2026-09-30T23:40:00Z',
      },
    );
    await world.assessment(
      e1,
      'sms-caseload-assignment',
      { allocatedOn: '2026-10-02' },
      {
        submittedAt: '2026-10-02T10:00:00Z',
      },
    );
    await top(e1, 'start', '2026-10-03');
    await top(e1, 'review', '2026-10-20');
    // After the month: not in October's extract.
    await top(e1, 'review', '2026-11-05');
    await discharge(e1, '2026-11-03');

    const e2 = (cases['e2'] = await world.case({ setting: EXTRACT }));
    await referral(e2, '2026-08-01', 'given');
    await discharge(e2, '2026-10-15', {
      dischargeReason: 'transferred-not-in-custody',
      exitDestinationDatCode: 'E08000035',
      referralOnReleaseStatus: 'referred-accepted',
    });
    await top(e2, 'exit', '2026-10-15');

    // Left before October: not active.
    const e3 = await world.case({ setting: EXTRACT });
    await referral(e3, '2026-08-01', 'given');
    await discharge(e3, '2026-09-20');
    // Active without consent: left out and counted.
    await referral(await world.case({ setting: EXTRACT }), '2026-10-10', 'declined');
    await referral(await world.case({ setting: EXTRACT }), '2026-09-01', 'not-yet-asked');
    // Referred after October: not active.
    await referral(await world.case({ setting: EXTRACT }), '2026-11-02', 'given');
    // A recall: the first episode ended in July; the second, in October, has no consent.
    const recalled = await world.case({ setting: EXTRACT });
    await referral(recalled, '2026-06-01', 'given');
    await discharge(recalled, '2026-07-01');
    await referral(recalled, '2026-10-05', 'declined');
    // Consent declined, then corrected to given: the correction is the record.
    const e8 = (cases['e8'] = await world.case({ setting: EXTRACT }));
    const declined = await referral(e8, '2026-10-01', 'declined');
    correctedReferral = await world.assessment(
      e8,
      'sms-referral',
      { referralDate: '2026-10-01', referralSource: 'self', drug1: 'alcohol', ndtmsConsent: 'given' },
      { submittedAt: '2026-10-01T11:00:00Z', corrects: declined },
    );
  }

  describe('NDTMS extract', () => {
    it('has one row per episode active in the month, of people with NDTMS consent, and counts those without', async () => {
      const extract = await ndtmsExtract(store, { month: '2026-10', settings: [EXTRACT] }, SCOPE, at);
      expect(extract.excludedNoConsent).toBe(3);
      expect(extract.rows.map((r) => r.caseId)).toEqual([
        cases['e2']!.caseId,
        cases['e1']!.caseId,
        cases['e8']!.caseId,
      ]);
      const [e2, e1, e8] = extract.rows;
      expect(e1).toEqual({
        episodeId: expect.any(String),
        caseId: cases['e1']!.caseId,
        patientId: cases['e1']!.patientId,
        nhsNumber: cases['e1']!.nhsNumber,
        dateOfBirth: '1990-04-01',
        sex: 'male',
        settingOdsCode: EXTRACT,
        settingName: 'HMP Extract',
        receptionDate: '2026-09-28',
        referralDate: '2026-09-29',
        triageDate: '2026-10-01',
        treatmentStartDate: '2026-10-02',
        drug1: 'opiates',
        drug2: 'crack',
        drug3: null,
        consentDate: '2026-09-29',
        exitDate: null,
        exitReason: null,
        dischargeReason: null,
        exitDestination: null,
        referralOnReleaseStatus: null,
        topStartDate: '2026-10-03',
        topReviewDates: '2026-10-20',
        topExitDate: null,
      });
      expect(e2).toMatchObject({
        receptionDate: null,
        referralDate: '2026-08-01',
        exitDate: '2026-10-15',
        exitReason: 'released',
        dischargeReason: 'transferred-not-in-custody',
        exitDestination: 'E08000035',
        referralOnReleaseStatus: 'referred-accepted',
        topExitDate: '2026-10-15',
      });
      expect(e8).toMatchObject({ episodeId: correctedReferral, drug1: 'alcohol', referralDate: '2026-10-01' });
      expect(extract.identifiable).toBe(true);
    });

    it('reads an earlier month as it stood then, and September has the people who left in September', async () => {
      const extract = await ndtmsExtract(store, { month: '2026-09', settings: [EXTRACT] }, SCOPE, at);
      // e1 (referred 29 Sept), e2, e3 (left 20 Sept); the one not yet asked (referred 1 Sept) is left out.
      expect(extract.rows.map((r) => r.referralDate)).toEqual(['2026-08-01', '2026-08-01', '2026-09-29']);
      expect(extract.excludedNoConsent).toBe(1);
      const e1 = extract.rows.find((r) => r.caseId === cases['e1']!.caseId)!;
      expect(e1).toMatchObject({ triageDate: null, treatmentStartDate: null, topStartDate: null });
    });

    it('refuses a month that is not one', async () => {
      await expect(ndtmsExtract(store, { month: '2026-13' }, SCOPE, at)).rejects.toBeInstanceOf(ValidationError);
      await expect(ndtmsExtract(store, { month: '9999-12' }, SCOPE, at)).rejects.toBeInstanceOf(ValidationError);
    });
  });

  // -------------------------------------------------------------------------------------------------------------

  describe('the projections the reports read (migration report-scope)', () => {
    const knex = () => store.orm.em.getConnection().getKnex();

    it("keeps each assessment's facts: the day it counts on, its facet and detail, and whether it was corrected", async () => {
      const person = await world.case({ setting: EXTRACT });
      const saved = async (formId: string, data: Record<string, unknown>, submittedAt: string, corrects?: string) => {
        const id = await world.assessment(person, formId, data, { submittedAt, ...(corrects ? { corrects } : {}) });
        return knex()('report_facts')
          .where({ assessment_id: id })
          .first<{ day: string; facet: string | null; detail: unknown; corrected: boolean }>(
            knex().raw('day::text as day'),
            'facet',
            'detail',
            'corrected',
          );
      };
      const dayOf = (fact: { day: string } | undefined) => fact?.day;
      // 00:30 BST on 25 October is 23:30 UTC on the 24th: the London day.
      expect(
        dayOf(
          await saved(
            'prison-reception-sms',
            { receptionAt: '2026-10-24T23:30:00Z', alcoholScreen: { decision: 'hazardous' } },
            '2026-10-25T08:00:00Z',
          ),
        ),
      ).toBe('2026-10-25');
      // Not a date, or no such date: saved all the same, counted on the London day it was saved.
      for (const referralDate of ['not a date', '2026-02-30'])
        expect(
          dayOf(await saved('sms-referral', { referralDate, ndtmsConsent: 'given' }, '2026-03-01T23:30:00Z')),
        ).toBe('2026-03-01');
      const referral = await saved(
        'sms-referral',
        { referralDate: '2026-10-02', drug1: 'opiates', ndtmsConsent: 'declined', reason: 'free text not copied' },
        '2026-10-02T10:00:00Z',
      );
      expect(referral).toMatchObject({
        facet: 'declined',
        detail: { drug1: 'opiates', drug2: null, drug3: null, ndtmsConsentDate: null },
        corrected: false,
      });
      const [original] = await knex()('assessments')
        .where({ case_id: person.caseId, form_id: 'sms-referral' })
        .orderBy('submitted_at', 'desc')
        .pluck<string[]>('id');
      await saved(
        'sms-referral',
        { referralDate: '2026-10-02', ndtmsConsent: 'given' },
        '2026-10-03T10:00:00Z',
        original,
      );
      expect(await knex()('report_facts').where({ assessment_id: original }).first('corrected')).toEqual({
        corrected: true,
      });
    });

    it('keeps the setting each case is in now: the latest recorded, a handover on a tie, whatever order they arrive in', async () => {
      const currentOf = async (caseId: string) =>
        (
          await knex()('case_current_settings as cur')
            .join('settings as s', 's.id', 'cur.setting_id')
            .where('cur.case_id', caseId)
            .first<{ ods_code: string }>('s.ods_code')
        )?.ods_code;
      const settingId = async (odsCode: string) =>
        (await knex()('settings').where({ ods_code: odsCode }).first<{ id: string }>('id')).id;
      const handedOver = await world.case({ setting: OPERATIONS.custody, handedOverTo: OPERATIONS.a });
      expect(await currentOf(handedOver.caseId)).toBe(OPERATIONS.a);
      // A record of an earlier handover arriving later does not move the case back.
      await knex()('case_settings').insert({
        case_id: handedOver.caseId,
        setting_id: await settingId(OPERATIONS.b),
        reason: 'handed-over',
        recorded_at: '2026-05-01T00:00:00Z',
        recorded_by: 'test',
      });
      expect(await currentOf(handedOver.caseId)).toBe(OPERATIONS.a);
      // Opened and handed over at the same instant: the handover.
      const sameInstant = await world.case({ setting: OPERATIONS.custody, openedAt: '2026-07-01T09:00:00Z' });
      await knex()('case_settings').insert({
        case_id: sameInstant.caseId,
        setting_id: await settingId(OPERATIONS.b),
        reason: 'handed-over',
        recorded_at: '2026-07-01T09:00:00Z',
        recorded_by: 'test',
      });
      expect(await currentOf(sameInstant.caseId)).toBe(OPERATIONS.b);
    });
  });

  describe('scope and filters', () => {
    it('reports nothing outside the scope, whatever settings are asked for', async () => {
      const report = await milestoneComplianceReport(
        store,
        { from: '2026-10-01', to: '2026-10-31', settings: [COMPLIANCE.elsewhere] },
        SCOPE,
        at,
      );
      expect(report.filters.settings).toEqual([]);
      expect(report.rows.every((r) => r.settingOdsCode === null && r.due.value === 0)).toBe(true);
      const none = await caseloadReport(store, {}, { settings: [] }, at);
      expect(none.rows).toEqual([]);
    });

    it('names each bad filter', async () => {
      const problems = async (filters: Record<string, string>) => {
        try {
          await weeklyActivityReport(store, filters, SCOPE, at);
          return [];
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          return error.problems.map((p) => p.pointer);
        }
      };
      expect(await problems({ from: '2026-02-30' })).toEqual(['/from']);
      expect(await problems({ to: 'yesterday' })).toEqual(['/to']);
      expect(await problems({ from: '2026-10-02', to: '2026-10-01' })).toEqual(['/from']);
      expect(await problems({ from: '2020-01-01', to: '2026-10-01' })).toEqual(['/from']);
      // Four-digit years only: past 9999 a date is written +010000-... and would sort before the end of a range.
      expect(await problems({ from: '9999-12-27', to: '9999-12-31' })).toEqual(['/from', '/to']);
      expect(await problems({ from: '0099-01-01', to: '0099-02-01' })).toEqual(['/from', '/to']);
    });

    it('defaults to the last twelve weeks (from a Monday) or months, to today in London', async () => {
      const weekly = await weeklyActivityReport(store, { settings: [OPERATIONS.a] }, SCOPE, at);
      expect(weekly.filters).toMatchObject({ from: '2026-08-24', to: '2026-11-10' });
      expect(new Set(weekly.rows.map((r) => r.weekStarting)).size).toBe(12);
      const monthly = await releaseContinuityReport(store, { settings: [OPERATIONS.a] }, SCOPE, at);
      expect(monthly.filters).toMatchObject({ from: '2025-12-01', to: '2026-11-10' });
    });
  });
});
