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
