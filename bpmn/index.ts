/**
 * bpmn/: the pathway compiler (BPMN XML with the Zeebe vocabulary → IR), its linter, and the IR types.
 * Deploy-time code (api, cli, designer) imports this file. Workflow code must not: it pulls in bpmn-moddle
 * and bpmnlint. The sandbox-safe parts are `bpmn/ir`, `bpmn/feel` and `bpmn/iso8601`, imported directly.
 */
export * from './ir';
export { compilePathway, hasLintErrors, type CompiledPathway } from './compile-and-lint';
export { compilePathwayIR, DEFAULT_RETRIES } from './compile-pathway';
export { createLintConfig, lintPathway, type LintOptions } from './lint-pathway';
export { THROUGHCARE_PLUGIN, THROUGHCARE_RULES, throughcareRules, type LintRuleFactory } from './lint-rules';
export { PathwayCompileError, BPMN_ERROR_CODES, type BpmnErrorCode } from './errors';
export { evaluateFeel, findFeelSyntaxError, FeelEvaluationError } from './feel';
export { parseIsoDateTime, parseIsoDuration, parseRepeatingInterval, addIsoDuration } from './iso8601';
