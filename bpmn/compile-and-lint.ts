/**
 * The deploy-time entry point: BPMN XML → IR plus every lint finding, from one read of the XML.
 */
import { compileProcess, selectProcess } from './compile-pathway';
import { type LintFinding, type PathwayIR } from './ir';
import { lintDefinitions, type LintOptions } from './lint-pathway';
import { readBpmn } from './moddle';

export interface CompiledPathway {
  readonly ir: PathwayIR;
  /** Lint findings; deploy should refuse a pathway with any `error`. */
  readonly findings: LintFinding[];
}

/**
 * Compiles and lints a pathway. Throws PathwayCompileError (`BPMN_INVALID_XML`, `BPMN_NO_PROCESS`) only when
 * there is no IR to return; everything else is a finding.
 */
export async function compilePathway(xml: string, options: LintOptions = {}): Promise<CompiledPathway> {
  const { rootElement, elementsById, warnings } = await readBpmn(xml);
  const ir = compileProcess(selectProcess(rootElement));
  const findings = await lintDefinitions(rootElement, elementsById, warnings, options);
  return { ir, findings };
}

/** True when findings contain an error (the pathway should not be deployed). */
export function hasLintErrors(findings: readonly LintFinding[]): boolean {
  return findings.some((finding) => finding.severity === 'error');
}
