/**
 * The pathway designer's canvas (web/designer.ts): bpmn-js's modeller with the Zeebe properties panel, a palette and
 * menus that offer only what the pathway interpreter runs, and the project's own lint rules (bpmn/, the same
 * configuration the server deploys with) shown on the canvas as the diagram changes, with the findings listed under
 * it, each a button that selects its element. Enhancement only: without JavaScript the page edits the BPMN XML in
 * its text box. With it, the text box is kept in step with the canvas, so every form on the page (save, publish,
 * simulate, download) sends what is drawn.
 */
import Modeler from 'bpmn-js/lib/Modeler';
import * as ReplaceOptions from 'bpmn-js/lib/features/replace/ReplaceOptions';
import lintModule from 'bpmn-js-bpmnlint';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  ZeebePropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import zeebeBehaviors from 'camunda-bpmn-js-behaviors/lib/camunda-cloud';
import type Canvas from 'diagram-js/lib/core/Canvas';
import type EventBus from 'diagram-js/lib/core/EventBus';
import type ElementRegistry from 'diagram-js/lib/core/ElementRegistry';
import type Selection from 'diagram-js/lib/features/selection/Selection';
import zeebeSchema from 'zeebe-bpmn-moddle/resources/zeebe.json';
import { createLintConfig, createResolver, type LintOptions } from '../../bpmn/lint-pathway';
import { EXECUTED_TRIGGERS, EXECUTED_TYPES } from '../../bpmn/lint-rules/supported-element.rule';
import './pathway-designer.css';

/** What web/designer.ts puts in the page's `#designer-data` block. */
interface DesignerData {
  readonly lintOptions: Pick<LintOptions, 'taskTypes' | 'formIds'>;
}

/** The least zoom the diagram opens at: a long pathway fitted whole would be too small to read or edit. */
const READABLE_ZOOM = 0.75;

type Entries = Record<string, unknown>;
interface Injector {
  get<T>(name: string): T;
}

const TRIGGERS: Record<string, string> = {
  'bpmn:TimerEventDefinition': 'timer',
  'bpmn:MessageEventDefinition': 'message',
  'bpmn:ErrorEventDefinition': 'error',
  'bpmn:TerminateEventDefinition': 'terminate',
  'bpmn:EscalationEventDefinition': 'escalation',
};

/** Whether the interpreter runs an element of this type with this event trigger (the lint rule's own lists). */
function executed(type: string, eventDefinitionType?: string): boolean {
  if (type === 'bpmn:SequenceFlow') return true;
  if (!EXECUTED_TYPES.includes(type)) return false;
  const triggers = EXECUTED_TRIGGERS[type];
  if (!triggers) return true;
  return triggers.includes(eventDefinitionType ? (TRIGGERS[eventDefinitionType] ?? 'unsupported') : 'none');
}

/** The replace menu's entries (by action name) that turn an element into something the interpreter runs. */
const EXECUTED_REPLACEMENTS = new Set(
  Object.values(ReplaceOptions)
    .filter((options): options is ReplaceOptions.ReplaceOption[] => Array.isArray(options))
    .flat()
    .filter((option) => !option.target || executed(option.target.type, option.target.eventDefinitionType))
    .map((option) => option.actionName),
);

/** Context pad "append" entries of elements the interpreter does not run. */
const UNEXECUTED_APPENDS = [
  'append.append-task',
  'append.receive-task',
  'append.condition-intermediate-event',
  'append.signal-intermediate-event',
  'append.compensation-activity',
];

/**
 * The palette's own entries, each something the interpreter runs; the default palette's tools stay (hand, lasso,
 * space, connect), its generic task, data, pool, group and sub-process entries go.
 */
function ExecutedElementsPalette(this: unknown, injector: Injector) {
  const palette = injector.get<{ registerProvider(priority: number, provider: unknown): void }>('palette');
  const elementFactory = injector.get<{ createShape(attrs: Record<string, unknown>): unknown }>('elementFactory');
  const create = injector.get<{ start(event: Event, shape: unknown): void }>('create');
  const entry = (group: string, className: string, title: string, attrs: Record<string, unknown>) => {
    const start = (event: Event) => create.start(event, elementFactory.createShape(attrs));
    return { group, className, title, action: { dragstart: start, click: start } };
  };
  palette.registerProvider(500, {
    getPaletteEntries: () => (entries: Entries) => {
      const kept = Object.fromEntries(Object.entries(entries).filter(([id]) => !id.startsWith('create.')));
      return {
        ...kept,
        'create.start-event': entry('event', 'bpmn-icon-start-event-none', 'Start event', { type: 'bpmn:StartEvent' }),
        'create.timer-catch': entry('event', 'bpmn-icon-intermediate-event-catch-timer', 'Timer event', {
          type: 'bpmn:IntermediateCatchEvent',
          eventDefinitionType: 'bpmn:TimerEventDefinition',
        }),
        'create.message-catch': entry('event', 'bpmn-icon-intermediate-event-catch-message', 'Message event', {
          type: 'bpmn:IntermediateCatchEvent',
          eventDefinitionType: 'bpmn:MessageEventDefinition',
        }),
        'create.end-event': entry('event', 'bpmn-icon-end-event-none', 'End event', { type: 'bpmn:EndEvent' }),
        'create.exclusive-gateway': entry('gateway', 'bpmn-icon-gateway-xor', 'Exclusive gateway', {
          type: 'bpmn:ExclusiveGateway',
        }),
        'create.parallel-gateway': entry('gateway', 'bpmn-icon-gateway-parallel', 'Parallel gateway', {
          type: 'bpmn:ParallelGateway',
        }),
        'create.user-task': entry('activity', 'bpmn-icon-user-task', 'User task', { type: 'bpmn:UserTask' }),
        'create.service-task': entry('activity', 'bpmn-icon-service-task', 'Service task', {
          type: 'bpmn:ServiceTask',
        }),
        'create.call-activity': entry('activity', 'bpmn-icon-call-activity', 'Call activity', {
          type: 'bpmn:CallActivity',
        }),
      };
    },
  });
  injector
    .get<{ registerProvider(id: string, priority: number, provider: unknown): void }>('popupMenu')
    .registerProvider('bpmn-replace', 500, {
      getPopupMenuEntries: () => (entries: Entries) =>
        Object.fromEntries(Object.entries(entries).filter(([id]) => EXECUTED_REPLACEMENTS.has(id))),
      // Loop and multi-instance markers: the interpreter runs every activity once.
      getPopupMenuHeaderEntries: () => (entries: Entries) =>
        Object.fromEntries(Object.entries(entries).filter(([id]) => !id.startsWith('toggle-'))),
    });
  injector.get<{ registerProvider(priority: number, provider: unknown): void }>('contextPad').registerProvider(500, {
    getContextPadEntries: () => (entries: Entries) =>
      Object.fromEntries(Object.entries(entries).filter(([id]) => !UNEXECUTED_APPENDS.includes(id))),
  });
}
ExecutedElementsPalette.$inject = ['injector'];

const executedElementsModule = {
  __init__: ['executedElementsPalette'],
  executedElementsPalette: ['type', ExecutedElementsPalette],
};

interface LintIssue {
  readonly id: string;
  readonly message: string;
  readonly category: string;
}

/** The findings under the canvas: each a button that selects and shows its element. */
function showFindings(list: HTMLElement, issues: Record<string, LintIssue[]>, modeler: Modeler): void {
  const canvas = modeler.get<Canvas>('canvas');
  const registry = modeler.get<ElementRegistry>('elementRegistry');
  const selection = modeler.get<Selection>('selection');
  const all = Object.values(issues).flat();
  const items = all.map((issue) => {
    const item = document.createElement('li');
    item.dataset['elementId'] = issue.id;
    item.dataset['severity'] = issue.category;
    const element = registry.get(issue.id);
    const label = `${issue.category === 'error' ? 'Error' : 'Warning'}: ${issue.message}`;
    if (element) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'app-designer__finding';
      button.textContent = `${label} (${issue.id})`;
      button.addEventListener('click', () => {
        canvas.scrollToElement(element);
        selection.select(element);
      });
      item.append(button);
    } else item.textContent = label;
    return item;
  });
  list.replaceChildren(...items);
  const summary = document.getElementById('designer-lint-summary');
  if (summary) {
    const errors = all.filter((issue) => issue.category === 'error').length;
    summary.textContent =
      all.length === 0
        ? 'No problems found'
        : `${errors} error${errors === 1 ? '' : 's'}, ${all.length - errors} warning${all.length - errors === 1 ? '' : 's'}`;
  }
}

async function startDesigner(): Promise<void> {
  const container = document.getElementById('designer-canvas');
  const panel = document.getElementById('designer-properties');
  const source = document.getElementById('designer-data');
  const xmlField = document.getElementById('designer-xml') as HTMLTextAreaElement | null;
  const findings = document.getElementById('designer-findings');
  if (!container || !panel || !source?.textContent || !xmlField || !findings) return;
  const data = JSON.parse(source.textContent) as DesignerData;
  const modeler = new Modeler({
    container,
    propertiesPanel: { parent: panel },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      ZeebePropertiesProviderModule,
      zeebeBehaviors,
      lintModule,
      executedElementsModule,
    ],
    moddleExtensions: { zeebe: zeebeSchema },
    linting: {
      active: true,
      bpmnlint: { config: createLintConfig(data.lintOptions), resolver: createResolver() },
    },
  });
  // Shown before drawing: the canvas measures its box to fit the diagram in it.
  document.body.classList.add('app-designer--drawn');
  try {
    await modeler.importXML(xmlField.value);
  } catch (error) {
    document.body.classList.remove('app-designer--drawn');
    const note = document.createElement('p');
    note.textContent = `The diagram could not be drawn (${error instanceof Error ? error.message : String(error)}). Edit its XML below.`;
    container.before(note);
    return;
  }
  const eventBus = modeler.get<EventBus>('eventBus');
  // The text box follows the canvas, so every form on the page sends what is drawn.
  const syncXml = async () => {
    const { xml } = await modeler.saveXML({ format: true });
    if (xml !== undefined) xmlField.value = xml;
    container.dataset['revision'] = String(Number(container.dataset['revision'] ?? '0') + 1);
  };
  eventBus.on('commandStack.changed', () => void syncXml());
  eventBus.on('linting.completed', (event: { issues: Record<string, LintIssue[]> }) => {
    showFindings(findings, event.issues, modeler);
    container.dataset['linted'] = 'true';
  });
  // The whole pathway when it is readable so; else the start of it, at a size that is.
  const canvas = modeler.get<Canvas>('canvas');
  if (canvas.zoom('fit-viewport') < READABLE_ZOOM) {
    canvas.zoom(READABLE_ZOOM);
    const start = modeler.get<ElementRegistry>('elementRegistry').find((element) => element.type === 'bpmn:StartEvent');
    if (start) canvas.scrollToElement(start, { top: 200, left: 80, right: 2000, bottom: 2000 });
  }
  container.dataset['designerReady'] = 'true';
  // For the browser tests and the curious: the modeller, as bpmn.io's own demos expose it.
  (window as unknown as { throughcareDesigner: Modeler }).throughcareDesigner = modeler;
}

void startDesigner();
