// bpmn-moddle ships no type declarations; this is the slice of its API the compiler and linter use.
declare module 'bpmn-moddle' {
  export interface ModdleElement {
    readonly $type: string;
    readonly $parent?: ModdleElement;
    readonly $attrs?: Record<string, string>;
    readonly id?: string;
    readonly name?: string;
    $instanceOf(type: string): boolean;
    readonly [key: string]: unknown;
  }
  export interface ModdleWarning {
    readonly message: string;
    readonly element?: ModdleElement;
    readonly property?: string;
    readonly value?: unknown;
  }
  export interface ParseResult {
    readonly rootElement: ModdleElement;
    readonly elementsById: Record<string, ModdleElement>;
    readonly warnings: ModdleWarning[];
    readonly references: unknown[];
  }
  export default class BpmnModdle {
    constructor(packages?: Record<string, unknown>);
    fromXML(xml: string, typeName?: string): Promise<ParseResult>;
  }
}
