// The bpmn.io packages the designer bundles ship JavaScript only; these are the slices it uses.
declare module 'bpmn-js-properties-panel' {
  import type { ModuleDeclaration } from 'didi';
  export const BpmnPropertiesPanelModule: ModuleDeclaration;
  export const BpmnPropertiesProviderModule: ModuleDeclaration;
  export const ZeebePropertiesProviderModule: ModuleDeclaration;
}
declare module 'camunda-bpmn-js-behaviors/lib/camunda-cloud' {
  import type { ModuleDeclaration } from 'didi';
  const behaviors: ModuleDeclaration;
  export default behaviors;
}
declare module 'bpmn-js-bpmnlint' {
  import type { ModuleDeclaration } from 'didi';
  const lintModule: ModuleDeclaration;
  export default lintModule;
}
declare module 'bpmn-js/lib/features/replace/ReplaceOptions' {
  export interface ReplaceOption {
    readonly actionName: string;
    readonly target?: { readonly type: string; readonly eventDefinitionType?: string };
  }
  const options: Record<string, ReplaceOption[]>;
  export = options;
}
