// Written by hand: the tables are kept by triggers and read by engine/reports/ with knex, so no entity maps them (and
// they have no foreign keys, which the schema diff would otherwise propose to drop).
import { Migration } from '@mikro-orm/migrations';

/**
 * What the reports need to be fast over 100,000 cases (bench:reports, bench/README.md), as projections kept by
 * triggers on append-only tables (so inserts are all they see):
 * - `case_current_settings`: the setting each case is in now (the one most recently recorded in `case_settings`: where
 *   a journey handed it over to, else where it was opened), one row per case. Reports count a case under it. Worked
 *   out in each query instead (a lateral "latest row" per case), PostgreSQL could not estimate how many cases a
 *   setting has, and joined them to the assessments by scanning them once per assessment.
 * - `report_facts`: one narrow row per assessment with what the reports count it by: its form, case and time, the
 *   London day it counts on (the form's own date: reception time, referral date, exit date...; else the day it was
 *   saved), its one categorical answer the reports group by (`facet`), the few other answers a report prints
 *   (`detail`: a referral's drugs and consent date, a discharge's exit items, for the NDTMS extract), its SNOMED CT
 *   codes, and whether a correction has replaced it. The assessments hold each form's answers as JSON (a TOP is
 *   1.6 kB): at 100,000 cases a table of some 235 MB, read whole by every report that read it; the facts of the same
 *   rows are 65 MB. Which field is which form's day, facet and detail mirrors
 *   engine/reports/pathway-facts.ts (FORMS): change both together (a new migration replacing the function and
 *   recomputing the rows).
 * A value that is not a date leaves the day to the time it was saved, and never stops an assessment being saved.
 */
export class Migration20261208050000_report_scope extends Migration {
  override up(): void {
    this.addSql(
      `create table "case_current_settings" (` +
        `"case_id" uuid not null, ` +
        `"setting_id" uuid not null, ` +
        `"recorded_at" timestamptz not null, ` +
        `"handed_over" boolean not null, ` +
        `constraint "case_current_settings_pkey" primary key ("case_id"));`,
    );
    this.addSql(`create index "case_current_settings_setting" on "case_current_settings" ("setting_id");`);
    // The latest recorded wins; on the same instant a handover wins over the opening, then the larger id (a tie-break
    // that does not depend on the order rows arrive in).
    this.addSql(
      `create function throughcare_track_current_setting() returns trigger language plpgsql as $$
begin
  insert into case_current_settings (case_id, setting_id, recorded_at, handed_over)
  values (new.case_id, new.setting_id, new.recorded_at, new.reason = 'handed-over')
  on conflict (case_id) do update
    set setting_id = excluded.setting_id, recorded_at = excluded.recorded_at, handed_over = excluded.handed_over
    where (excluded.recorded_at, excluded.handed_over, excluded.setting_id)
        > (case_current_settings.recorded_at, case_current_settings.handed_over, case_current_settings.setting_id);
  return null;
end;
$$;`,
    );
    this.addSql(
      `create trigger case_settings_track_current after insert on "case_settings" for each row execute function throughcare_track_current_setting();`,
    );
    this.addSql(
      `insert into "case_current_settings" ("case_id", "setting_id", "recorded_at", "handed_over")
       select distinct on ("case_id") "case_id", "setting_id", "recorded_at", "reason" = 'handed-over'
         from "case_settings"
        order by "case_id", "recorded_at" desc, ("reason" = 'handed-over') desc, "setting_id" desc;`,
    );

    this.addSql(
      `create table "report_facts" (` +
        `"assessment_id" uuid not null, ` +
        `"case_id" uuid not null, ` +
        `"form_id" varchar(255) not null, ` +
        `"submitted_at" timestamptz not null, ` +
        `"day" date not null, ` +
        `"facet" text null, ` +
        `"detail" jsonb null, ` +
        `"snomed_codes" text[] not null, ` +
        `"corrected" boolean not null default false, ` +
        `constraint "report_facts_pkey" primary key ("assessment_id"));`,
    );
    this.addSql(`create index "report_facts_form_day" on "report_facts" ("form_id", "day") where not corrected;`);
    this.addSql(
      `create index "report_facts_case_form" on "report_facts" ("case_id", "form_id", "submitted_at") where not corrected;`,
    );
    // The London day an answer names (a date, or a date-time with its offset), or null when it names none.
    this.addSql(
      `create function throughcare_report_day(answer text) returns date language plpgsql stable as $$
begin
  if answer ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then return answer::date; end if;
  if answer ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' then return (answer::timestamptz at time zone 'Europe/London')::date; end if;
  return null;
exception when others then
  return null;
end;
$$;`,
    );
    this.addSql(
      `create function throughcare_report_fact(a assessments) returns report_facts language sql stable as $$
  select a.id, a.case_id, a.form_id, a.submitted_at,
         coalesce(throughcare_report_day(a.data->>(case a.form_id
                    when 'prison-reception-sms' then 'receptionAt'
                    when 'sms-referral' then 'referralDate'
                    when 'sms-risk-assessment' then 'assessedAt'
                    when 'sms-caseload-assignment' then 'allocatedOn'
                    when 'sms-brief-intervention' then 'deliveredOn'
                    when 'top-secure-setting' then 'interviewDate'
                    when 'sms-discharge' then 'prisonExitDate'
                    when 'release-plan' then 'releaseDate'
                  end)),
                  (a.submitted_at at time zone 'Europe/London')::date),
         case a.form_id
           when 'prison-reception-sms' then a.data->'alcoholScreen'->>'decision'
           when 'sms-referral' then a.data->>'ndtmsConsent'
           when 'sms-brief-intervention' then a.data->>'outcome'
           when 'top-secure-setting' then a.data->>'treatmentStage'
         end,
         case a.form_id
           when 'sms-referral' then jsonb_build_object('drug1', a.data->>'drug1', 'drug2', a.data->>'drug2',
             'drug3', a.data->>'drug3', 'ndtmsConsentDate', a.data->>'ndtmsConsentDate')
           when 'sms-discharge' then jsonb_build_object('prisonExitReason', a.data->>'prisonExitReason',
             'dischargeReason', a.data->>'dischargeReason', 'exitDestinationDatCode', a.data->>'exitDestinationDatCode',
             'referralOnReleaseStatus', a.data->>'referralOnReleaseStatus')
         end,
         a.snomed_codes,
         false
$$;`,
    );
    this.addSql(
      `create function throughcare_track_report_facts() returns trigger language plpgsql as $$
begin
  insert into report_facts select * from throughcare_report_fact(new);
  if new.corrects_id is not null then
    update report_facts set corrected = true where assessment_id = new.corrects_id;
  end if;
  return null;
end;
$$;`,
    );
    this.addSql(
      `create trigger assessments_track_report_facts after insert on "assessments" for each row execute function throughcare_track_report_facts();`,
    );
    this.addSql(
      `insert into "report_facts" select f.* from "assessments" a cross join lateral throughcare_report_fact(a) f;`,
    );
    this.addSql(
      `update "report_facts" f set "corrected" = true
        where exists (select 1 from "assessments" c where c."corrects_id" = f."assessment_id");`,
    );
    this.addSql(`analyze "case_current_settings";`);
    this.addSql(`analyze "report_facts";`);
  }

  override down(): void {
    this.addSql(`drop trigger if exists assessments_track_report_facts on "assessments";`);
    this.addSql(`drop function if exists throughcare_track_report_facts();`);
    this.addSql(`drop function if exists throughcare_report_fact(assessments);`);
    this.addSql(`drop function if exists throughcare_report_day(text);`);
    this.addSql(`drop table if exists "report_facts";`);
    this.addSql(`drop trigger if exists case_settings_track_current on "case_settings";`);
    this.addSql(`drop function if exists throughcare_track_current_setting();`);
    this.addSql(`drop table if exists "case_current_settings";`);
  }
}
