// bpmn-js-differ ships JavaScript only; this is the slice the version diff uses.
declare module 'bpmn-js-differ' {
  import type { ModdleElement } from 'bpmn-moddle';
  export interface Changes {
    readonly _added: Record<string, ModdleElement>;
    readonly _removed: Record<string, ModdleElement>;
    readonly _changed: Record<
      string,
      { model: ModdleElement; attrs: Record<string, { oldValue: unknown; newValue: unknown }> }
    >;
    readonly _layoutChanged: Record<string, ModdleElement>;
  }
  export function diff(oldDefinitions: ModdleElement, newDefinitions: ModdleElement): Changes;
}
