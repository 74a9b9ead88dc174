/** Every entity schema the ORM knows, in one list; the migrations are generated from these. */
import { CaseSchema } from './case.entity';
import { PathwayVersionSchema } from './pathway-version.entity';
import { PatientSchema } from './patient.entity';
import { SettingSchema } from './setting.entity';
import { StaffSchema } from './staff.entity';

export * from './case.entity';
export * from './pathway-version.entity';
export * from './patient.entity';
export * from './setting.entity';
export * from './staff.entity';

export const ENTITIES = [SettingSchema, StaffSchema, PatientSchema, CaseSchema, PathwayVersionSchema];
