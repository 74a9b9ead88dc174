/**
 * What changed between two versions of a pathway, element by element: bpmn-js-differ over both versions read with the
 * same moddle (and Zeebe vocabulary) the compiler reads them with, so a changed form, due date or timer counts as a
 * change of its element. Layout-only moves are listed apart: they change nothing a case does.
 */
import { diff } from 'bpmn-js-differ';
import { readBpmn, type ModdleElement } from './moddle';

export interface ElementChange {
  readonly id: string;
  /** BPMN type without its prefix: `UserTask`, `SequenceFlow`. */
  readonly type: string;
  readonly name?: string;
  /** For a changed element: which of its properties changed (`name`, `extensionElements`...). */
  readonly properties?: readonly string[];
}

export interface PathwayDiff {
  readonly added: readonly ElementChange[];
  readonly removed: readonly ElementChange[];
  readonly changed: readonly ElementChange[];
  /** Moved or resized in the diagram only. */
  readonly layoutChanged: readonly ElementChange[];
}

function changeOf(element: ModdleElement, properties?: readonly string[]): ElementChange {
  return {
    id: element.id ?? '',
    type: element.$type.replace(/^bpmn:/, ''),
    ...(element.name ? { name: element.name } : {}),
    ...(properties ? { properties } : {}),
  };
}

const byId = (a: ElementChange, b: ElementChange) => a.id.localeCompare(b.id);

export async function diffPathways(oldXml: string, newXml: string): Promise<PathwayDiff> {
  const [before, after] = await Promise.all([readBpmn(oldXml), readBpmn(newXml)]);
  const changes = diff(before.rootElement, after.rootElement);
  return {
    added: Object.values(changes._added)
      .map((element) => changeOf(element))
      .sort(byId),
    removed: Object.values(changes._removed)
      .map((element) => changeOf(element))
      .sort(byId),
    changed: Object.values(changes._changed)
      // The differ names changed attributes; a change inside the Zeebe extensions (form, assignment, due date)
      // marks the element changed with none named.
      .map(({ model, attrs }) =>
        changeOf(model, Object.keys(attrs).length ? Object.keys(attrs).sort() : ['extensionElements']),
      )
      .sort(byId),
    layoutChanged: Object.values(changes._layoutChanged)
      .filter((element) => !changes._changed[element.id ?? ''])
      .map((element) => changeOf(element))
      .sort(byId),
  };
}
