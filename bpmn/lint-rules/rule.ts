/**
 * The shape of our bpmnlint rules: a factory taking the rule's config and returning `{ check(node, reporter) }`,
 * exactly as bpmnlint loads its own. Our reports carry a `fix` so every finding says how to put it right.
 */
import { type ModdleElement } from '../moddle';

export interface RuleReporter {
  report(id: string, message: string, context?: string[] | { path?: string[]; [key: string]: unknown }): void;
}

export interface LintRule {
  meta?: { documentation?: { url?: string } };
  check(node: ModdleElement, reporter: RuleReporter): boolean | void;
}

export type LintRuleFactory = (config?: Record<string, unknown>) => LintRule;

/** Reports `message` about `element` with the way to fix it. */
export function reportFinding(reporter: RuleReporter, element: ModdleElement, message: string, fix: string): void {
  reporter.report(element.id ?? '', message, { fix });
}

/** True when `node` sits directly in a process (not inside a subprocess, which we report as a whole). */
export function isTopLevel(node: ModdleElement): boolean {
  const parent = node.$parent;
  return parent !== undefined && parent.$instanceOf('bpmn:Process');
}

/** Reads a `string[]` option, or undefined when the caller did not pass one (the check is then skipped). */
export function stringListOption(config: Record<string, unknown> | undefined, key: string): string[] | undefined {
  const value = config?.[key];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
}
