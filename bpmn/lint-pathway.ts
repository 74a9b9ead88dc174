/**
 * Lints a pathway: bpmnlint's `bpmnlint:recommended` rules plus ours (lint-rules/), run programmatically
 * with a static resolver (no file-system lookups, so it works the same under jest, tsx and a bundler).
 * Findings are data: `lintPathway` never throws for a bad diagram, even one that does not parse.
 */
import { Linter, type LintConfig, type LintReport } from 'bpmnlint';
import recommended from 'bpmnlint/config/recommended';

import { PathwayCompileError } from './errors';
import { type LintFinding } from './ir';
import { THROUGHCARE_PLUGIN, THROUGHCARE_RULES, throughcareRules } from './lint-rules';
import { readBpmn, type ModdleElement } from './moddle';
import { RECOMMENDED_RULE_FACTORIES } from './recommended-rules';

export interface LintOptions {
  /** Activity names the worker registers; service tasks must use one. Omit to skip that check. */
  readonly taskTypes?: readonly string[];
  /** Published form ids; user tasks must use one. Omit to skip that check (a form is still required). */
  readonly formIds?: readonly string[];
  /** Rule overrides in bpmnlint's form (`{ 'label-required': 'off' }`), applied last. */
  readonly rules?: Readonly<Record<string, unknown>>;
}

/**
 * Severity changes to bpmnlint's recommended set. Pathways may be written as text without diagram
 * interchange (the designer adds it), so a missing diagram is a warning, not a reason to refuse a deploy.
 */
const RECOMMENDED_OVERRIDES: Record<string, unknown> = { 'no-bpmndi': 'warn' };

/** How to fix what bpmnlint's own rules report, in the modeller's terms. */
const BPMNLINT_FIXES: Record<string, string> = {
  'conditional-flows': 'Give the sequence flow a condition, or make it the default flow of its gateway.',
  'end-event-required': 'Add an end event where each path finishes.',
  'event-based-gateway': 'Give the event-based gateway two or more unconditional flows to timer or message events.',
  'fake-join': 'Join the incoming flows with a parallel or exclusive gateway before the element.',
  global: 'Give the message or error a unique name and use it from an event, or delete it.',
  'label-required': 'Give the element a name that says what happens there.',
  'no-bpmndi': 'Open and save the file in the designer (or Camunda Modeler) to add the diagram layout.',
  'no-complex-gateway': 'Replace the complex gateway with exclusive or parallel gateways.',
  'no-disconnected': 'Connect the element with sequence flows, or delete it.',
  'no-duplicate-sequence-flows': 'Delete the duplicate sequence flow.',
  'no-gateway-join-fork': 'Split the gateway in two: one that joins, then one that forks.',
  'no-implicit-split': 'Fork with a gateway instead of several flows leaving one element.',
  'no-implicit-end': 'End the path with an end event.',
  'no-implicit-start': 'Start the path from a start event.',
  'no-inclusive-gateway': 'Replace the inclusive gateway with exclusive and parallel gateways.',
  'no-overlapping-elements': 'Move the elements apart in the diagram.',
  'single-blank-start-event': 'Keep one blank start event; give the others a message trigger.',
  'single-event-definition': 'Split the event into events with one trigger each.',
  'start-event-required': 'Add a start event.',
  'superfluous-gateway': 'Delete the gateway: it has one flow in and one out.',
  'superfluous-label': 'Remove the label, or move it to the flow it describes.',
  'superfluous-termination': 'Use a none end event: nothing else is running to terminate.',
};

/** The resolver lintPathway runs with: static, so the designer's bundle can run the same (`createLintConfig`). */
export function createResolver(): {
  resolveRule(pkg: string, name: string): unknown;
  resolveConfig(pkg: string, name: string): unknown;
} {
  return {
    resolveRule(pkg, name) {
      if (pkg === `bpmnlint-plugin-${THROUGHCARE_PLUGIN}`) {
        const factory = throughcareRules[name];
        if (!factory) throw new Error(`unknown rule <${THROUGHCARE_PLUGIN}/${name}>`);
        return factory;
      }
      if (pkg === 'bpmnlint' && Object.hasOwn(RECOMMENDED_RULE_FACTORIES, name))
        return RECOMMENDED_RULE_FACTORIES[name];
      throw new Error(`unknown rule <${pkg}/${name}>`);
    },
    resolveConfig(pkg, name) {
      if (pkg === 'bpmnlint' && name === 'recommended') return recommended;
      throw new Error(`unknown config <${pkg}/${name}>`);
    },
  };
}

/** The bpmnlint configuration lintPathway runs, for tools (the designer) that want to run the same. */
export function createLintConfig(options: LintOptions = {}): LintConfig {
  const ours: Record<string, unknown> = {};
  for (const [rule, severity] of Object.entries(THROUGHCARE_RULES)) {
    ours[`${THROUGHCARE_PLUGIN}/${rule}`] = [severity, { taskTypes: options.taskTypes, formIds: options.formIds }];
  }
  return { extends: 'bpmnlint:recommended', rules: { ...RECOMMENDED_OVERRIDES, ...ours, ...options.rules } };
}

function toFinding(rule: string, report: LintReport, elementsById: Record<string, ModdleElement>): LintFinding {
  const id = report.id ?? '';
  const name = elementsById[id]?.name;
  const fix =
    typeof report.fix === 'string'
      ? report.fix
      : (BPMNLINT_FIXES[rule] ?? 'See the bpmnlint documentation for this rule.');
  return {
    id,
    ...(name ? { name } : {}),
    rule,
    severity: report.category === 'error' || report.category === 'rule-error' ? 'error' : 'warning',
    message: report.message,
    fix,
  };
}

/** Lints BPMN XML. Never throws for a bad diagram: an unreadable file is a single `bpmn/parse` finding. */
export async function lintPathway(xml: string, options: LintOptions = {}): Promise<LintFinding[]> {
  let parsed;
  try {
    parsed = await readBpmn(xml);
  } catch (error) {
    if (!(error instanceof PathwayCompileError)) throw error;
    return [
      {
        id: '',
        rule: 'bpmn/parse',
        severity: 'error',
        message: error.message,
        fix: 'Save the pathway again from the designer or Camunda Modeler; the file must be BPMN 2.0 XML.',
      },
    ];
  }
  return lintDefinitions(parsed.rootElement, parsed.elementsById, parsed.warnings, options);
}

/** Lints an already-read definitions element (shared by lintPathway and compilePathway). */
export async function lintDefinitions(
  definitions: ModdleElement,
  elementsById: Record<string, ModdleElement>,
  warnings: readonly { message: string; element?: ModdleElement }[],
  options: LintOptions = {},
): Promise<LintFinding[]> {
  const linter = new Linter({ resolver: createResolver() });
  const results = await linter.lint(definitions, createLintConfig(options));
  const findings: LintFinding[] = warnings.map((warning) => ({
    id: warning.element?.id ?? '',
    ...(warning.element?.name ? { name: warning.element.name } : {}),
    rule: 'bpmn/parse',
    severity: 'warning',
    message: warning.message,
    fix: 'Remove or correct the attribute or element the BPMN reader did not recognise.',
  }));
  for (const [rule, reports] of Object.entries(results)) {
    for (const report of reports) findings.push(toFinding(rule, report, elementsById));
  }
  return findings.sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      a.rule.localeCompare(b.rule) ||
      a.id.localeCompare(b.id),
  );
}
