// bpmnlint ships JSDoc types only; this is the slice of its API the linter uses.
declare module 'bpmnlint' {
  import { type ModdleElement } from 'bpmn-moddle';
  export interface LintReport {
    readonly id?: string;
    readonly message: string;
    readonly category: 'warn' | 'error' | 'info' | 'rule-error';
    readonly fix?: string;
    readonly [key: string]: unknown;
  }
  export interface LintConfig {
    readonly extends?: string | string[];
    readonly rules?: Record<string, unknown>;
  }
  export interface Resolver {
    resolveRule(pkg: string, ruleName: string): unknown;
    resolveConfig(pkg: string, configName: string): unknown;
  }
  export class Linter {
    constructor(options: { config?: LintConfig; resolver: Resolver });
    lint(root: ModdleElement, config?: LintConfig): Promise<Record<string, LintReport[]>>;
  }
}
