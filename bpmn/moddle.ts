/**
 * Reading BPMN XML with bpmn-moddle and the Zeebe extension vocabulary, plus small typed accessors over
 * moddle elements, shared by the compiler and the lint rules. Deploy-time code (not for the workflow sandbox).
 */
import BpmnModdle, { type ModdleElement, type ParseResult } from 'bpmn-moddle';
import zeebeSchema from 'zeebe-bpmn-moddle/resources/zeebe.json';

import { PathwayCompileError } from './errors';

export type { ModdleElement } from 'bpmn-moddle';

export async function readBpmn(xml: string): Promise<ParseResult> {
  const moddle = new BpmnModdle({ zeebe: zeebeSchema });
  try {
    return await moddle.fromXML(xml, 'bpmn:Definitions');
  } catch (error) {
    throw new PathwayCompileError(
      'BPMN_INVALID_XML',
      `The BPMN XML could not be read: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

export function is(element: unknown, type: string): boolean {
  return (
    typeof element === 'object' &&
    element !== null &&
    typeof (element as ModdleElement).$instanceOf === 'function' &&
    (element as ModdleElement).$instanceOf(type)
  );
}

export function elementsOf(element: ModdleElement | undefined, property: string): ModdleElement[] {
  const value = element?.[property];
  return Array.isArray(value) ? (value as ModdleElement[]) : [];
}

export function elementOf(element: ModdleElement | undefined, property: string): ModdleElement | undefined {
  const value = element?.[property];
  return typeof value === 'object' && value !== null ? (value as ModdleElement) : undefined;
}

export function stringOf(element: ModdleElement | undefined, property: string): string | undefined {
  const value = element?.[property];
  return typeof value === 'string' ? value : undefined;
}

/** The form a `zeebe:formDefinition` links: its id, or the older `formKey`, or an external reference. */
export function formIdOf(form: ModdleElement | undefined): string | undefined {
  return stringOf(form, 'formId') ?? stringOf(form, 'formKey') ?? stringOf(form, 'externalReference');
}

export function booleanOf(element: ModdleElement | undefined, property: string): boolean | undefined {
  const value = element?.[property];
  return typeof value === 'boolean' ? value : undefined;
}

/** The `zeebe:*` (or other) extension elements of `element` with the given type. */
export function extensionsOf(element: ModdleElement | undefined, type: string): ModdleElement[] {
  return elementsOf(elementOf(element, 'extensionElements'), 'values').filter((value) => is(value, type));
}

export function extensionOf(element: ModdleElement | undefined, type: string): ModdleElement | undefined {
  return extensionsOf(element, type)[0];
}

/** The body of a `bpmn:FormalExpression` property (conditions, timer values). */
export function expressionBodyOf(element: ModdleElement | undefined, property: string): string | undefined {
  return stringOf(elementOf(element, property), 'body');
}

/** `zeebe:properties` as a record. */
export function propertiesOf(element: ModdleElement | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const properties of extensionsOf(element, 'zeebe:Properties')) {
    for (const property of elementsOf(properties, 'properties')) {
      const name = stringOf(property, 'name');
      if (name !== undefined) out[name] = stringOf(property, 'value') ?? '';
    }
  }
  return out;
}

/** The processes of a definitions element, executable ones first. */
export function processesOf(definitions: ModdleElement): ModdleElement[] {
  const processes = elementsOf(definitions, 'rootElements').filter((root) => is(root, 'bpmn:Process'));
  return [
    ...processes.filter((p) => p['isExecutable'] === true),
    ...processes.filter((p) => p['isExecutable'] !== true),
  ];
}

/** The element's id and name for a finding. */
export function labelOf(element: ModdleElement): { id: string; name?: string } {
  const name = stringOf(element, 'name');
  return name ? { id: element.id ?? '', name } : { id: element.id ?? '' };
}
