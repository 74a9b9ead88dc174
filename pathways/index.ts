/**
 * Public face of pathways/: the shipped BPMN pathways (custody reception, prison SMS, release support and
 * the journey that chains them), their forms as JSON Schema, and the validator the API uses on submissions.
 */
export {
  PATHWAYS,
  PATHWAYS_DIRECTORY,
  FORMS_DIRECTORY,
  SERVICE_TASK_TYPES,
  listFormIds,
  readFormSchema,
  readPathwayXml,
  type FormSchema,
  type PathwayId,
  type ServiceTaskType,
} from './catalogue';
export {
  createFormAjv,
  createFormValidator,
  describeErrors,
  type FormValidationResult,
  type FormValidator,
  type FormValidatorOptions,
} from './form-validator';
export { invalidSubmission, readFormExamples, type FormExamples, type InvalidFormExample } from './form-examples';
export {
  checkForm,
  formConventionProblems,
  isStartFormId,
  FORM_SCHEMA_DIALECT,
  NATIONAL_RULE_EVIDENCE,
  REFERENCE_SOURCE_IDS,
  type FormCheck,
} from './form-conventions';
