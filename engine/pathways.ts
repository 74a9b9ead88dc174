/**
 * Pathway versions: deploy (compile, lint, store immutably), list and fetch. A version is never changed
 * once stored; deploying identical XML again returns the version that already holds it.
 */
import { createHash } from 'node:crypto';
import {
  compilePathway,
  hasLintErrors,
  type LintFinding,
  type LintOptions,
  type PathwayElement,
  type PathwayIR,
  type TimerType,
  type ValueExpression,
} from '../bpmn';
import { NotFoundError, ValidationError } from '../domain/errors';
import { listFormIds, readFormSchema } from '../pathways';
import { PathwayVersionSchema, type Store } from '../store';

export interface PathwayVersionSummary {
  readonly pathwayId: string;
  readonly name: string | undefined;
  readonly version: number;
  readonly checksum: string;
  readonly deployedBy: string;
  readonly deployedAt: string;
  /** Why the version was made, as its publisher wrote it; null when deployed without one. */
  readonly changeNote: string | null;
}

export interface DeployedPathway extends PathwayVersionSummary {
  /** False when the same XML had already been deployed and that version was returned. */
  readonly created: boolean;
  /** Warnings found while linting (errors refuse the deployment). */
  readonly findings: readonly LintFinding[];
}

/** A pathway refused for its lint errors; `findings` carries every finding, each naming its element. */
export class PathwayLintError extends ValidationError {
  constructor(
    pathwayId: string | undefined,
    readonly findings: readonly LintFinding[],
  ) {
    const errors = findings.filter((f) => f.severity === 'error');
    super(
      `Pathway ${pathwayId ?? ''} has ${errors.length} lint error(s) and was not deployed`.replace('  ', ' '),
      errors.map((f) => ({ pointer: `/elements/${f.id}`, detail: `${f.message} Fix: ${f.fix}` })),
    );
  }
}

export interface DeployOptions extends LintOptions {
  /** Who deployed it (staff id or username), recorded with the version. */
  readonly deployedBy: string;
  /** Why this version is made (the designer's publish asks for one); stored with a new version only. */
  readonly changeNote?: string;
}

export function checksumOf(xml: string): string {
  return createHash('sha256').update(xml, 'utf8').digest('hex');
}

export async function deployPathway(store: Store, xml: string, options: DeployOptions): Promise<DeployedPathway> {
  const { ir, findings } = await compilePathway(xml, options);
  if (hasLintErrors(findings)) throw new PathwayLintError(ir.processId, findings);
  const checksum = checksumOf(xml);
  const em = store.fork();
  return em.transactional(async (tx) => {
    // Serialise deployments of one pathway so two deploys cannot both take the next version number.
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [ir.processId]);
    const existing = await tx.findOne(PathwayVersionSchema, { pathwayId: ir.processId, checksum });
    if (existing) return { ...summarise(existing), created: false, findings };
    const latest = await tx.findOne(
      PathwayVersionSchema,
      { pathwayId: ir.processId },
      { orderBy: { version: 'desc' } },
    );
    const created = tx.create(PathwayVersionSchema, {
      pathwayId: ir.processId,
      version: (latest?.version ?? 0) + 1,
      checksum,
      bpmnXml: xml,
      ir,
      deployedBy: options.deployedBy,
      deployedAt: new Date(),
      changeNote: options.changeNote ?? null,
    });
    await tx.flush();
    return { ...summarise(created), created: true, findings };
  });
}

/** Every deployed version, newest first within each pathway. */
export async function listPathwayVersions(store: Store, pathwayId?: string): Promise<PathwayVersionSummary[]> {
  const rows = await store
    .fork()
    .find(PathwayVersionSchema, pathwayId ? { pathwayId } : {}, { orderBy: { pathwayId: 'asc', version: 'desc' } });
  return rows.map(summarise);
}

export interface PathwayVersionDetail extends PathwayVersionSummary {
  readonly ir: PathwayIR;
  readonly bpmnXml: string;
}

/** One version, or the latest when `version` is omitted. */
export async function getPathwayVersion(
  store: Store,
  pathwayId: string,
  version?: number,
): Promise<PathwayVersionDetail> {
  const row = await store
    .fork()
    .findOne(PathwayVersionSchema, version === undefined ? { pathwayId } : { pathwayId, version }, {
      orderBy: { version: 'desc' },
    });
  if (!row)
    throw new NotFoundError(
      version === undefined ? `No pathway ${pathwayId} is deployed` : `Pathway ${pathwayId} has no version ${version}`,
    );
  return { ...summarise(row), ir: row.ir as PathwayIR, bpmnXml: row.bpmnXml };
}

/** A variable a pathway is started with, as its start form declares it. */
export interface StartVariable {
  readonly name: string;
  /** The JSON Schema type, with the format of a string (`string (date-time)`) or the items of a list. */
  readonly type: string;
  readonly required: boolean;
  readonly description?: string;
}

export interface ElementRef {
  readonly elementId: string;
  readonly name?: string;
}

/** One deployed version as an operator needs to see it: what starts it, what people do, what it waits for. */
export interface PathwayVersionView extends PathwayVersionSummary {
  /** The form its none start event names, or null when it declares none (any variables are accepted). */
  readonly startFormId: string | null;
  /** False when the version names a start form this installation does not have. */
  readonly startFormInstalled: boolean;
  readonly startVariables: readonly StartVariable[];
  readonly userTasks: readonly (ElementRef & { readonly formId: string | null })[];
  readonly timers: readonly (ElementRef & {
    readonly timerType: TimerType;
    /** ISO 8601 literal, or `=` and the FEEL expression. */
    readonly value: string;
    /** For a boundary timer: the activity it is attached to, and whether it interrupts it. */
    readonly attachedTo?: string;
    readonly interrupting?: boolean;
  })[];
  /** Each message it can catch, with where: the names to send with `throughcare case message`. */
  readonly messages: readonly {
    readonly messageName: string;
    readonly correlationKey: string | null;
    readonly caughtBy: readonly ElementRef[];
  }[];
}

/** One version (the latest when `version` is omitted), described from its IR and its start form. */
export async function showPathwayVersion(
  store: Store,
  pathwayId: string,
  version?: number,
): Promise<PathwayVersionView> {
  const { ir, bpmnXml: _xml, ...summary } = await getPathwayVersion(store, pathwayId, version);
  const startFormId = ir.startFormId ?? null;
  const startFormInstalled = startFormId !== null && listFormIds().includes(startFormId);
  const elements = inReachOrder(ir);
  const refOf = (element: PathwayElement): ElementRef => ({
    elementId: element.id,
    ...(element.name ? { name: element.name } : {}),
  });
  const messages = new Map<string, { messageName: string; correlationKey: string | null; caughtBy: ElementRef[] }>();
  const timers: PathwayVersionView['timers'][number][] = [];
  for (const element of elements) {
    if (!('trigger' in element) || element.kind === 'endEvent' || element.kind === 'intermediateThrowEvent') continue;
    const { trigger } = element;
    const attachment =
      element.kind === 'boundaryEvent' ? { attachedTo: element.attachedTo, interrupting: element.interrupting } : {};
    if (trigger.type === 'timer') {
      const { timerType, value } = trigger.timer;
      timers.push({ ...refOf(element), timerType, value: textOf(value), ...attachment });
    } else if (trigger.type === 'message') {
      const messageName = textOf(trigger.messageName);
      const correlationKey = trigger.correlationKey ? textOf(trigger.correlationKey) : null;
      const key = `${messageName}\u0000${correlationKey ?? ''}`;
      const entry = messages.get(key) ?? { messageName, correlationKey, caughtBy: [] };
      entry.caughtBy.push(refOf(element));
      messages.set(key, entry);
    }
  }
  return {
    ...summary,
    startFormId,
    startFormInstalled,
    startVariables: startFormInstalled ? startVariablesOf(startFormId) : [],
    userTasks: elements.flatMap((element) =>
      element.kind === 'userTask' ? [{ ...refOf(element), formId: element.formId ?? null }] : [],
    ),
    timers,
    messages: [...messages.values()],
  };
}

/**
 * The elements in the order the pathway reaches them from its start event (breadth first, a boundary event
 * right after its host), then any it does not reach. The stored IR is jsonb, which keeps no key order.
 */
function inReachOrder(ir: PathwayIR): PathwayElement[] {
  const seen = new Set<string>([ir.startEventId]);
  const queue = [ir.startEventId];
  for (let i = 0; i < queue.length; i++) {
    const element = ir.elements[queue[i] ?? ''];
    if (!element) continue;
    const next = [...element.boundaryEvents, ...element.outgoing.map((flowId) => ir.flows[flowId]?.targetRef ?? '')];
    for (const id of next) {
      if (id === '' || seen.has(id)) continue;
      seen.add(id);
      queue.push(id);
    }
  }
  const unreached = Object.keys(ir.elements)
    .filter((id) => !seen.has(id))
    .sort();
  return [...queue, ...unreached].flatMap((id) => (ir.elements[id] ? [ir.elements[id]] : []));
}

function textOf(value: ValueExpression): string {
  return 'literal' in value ? value.literal : `=${value.feel}`;
}

interface PropertySchema {
  readonly type?: string | readonly string[];
  readonly format?: string;
  readonly items?: PropertySchema;
  readonly title?: string;
  readonly description?: string;
}

function startVariablesOf(formId: string): StartVariable[] {
  const schema = readFormSchema(formId);
  const required = schema.required ?? [];
  return Object.entries(schema.properties as Record<string, PropertySchema>).map(([name, property]) => {
    const description = property.description ?? property.title;
    return {
      name,
      type: typeNameOf(property),
      required: required.includes(name),
      ...(description ? { description } : {}),
    };
  });
}

function typeNameOf(property: PropertySchema): string {
  const types = (Array.isArray(property.type) ? property.type : [property.type ?? 'any']) as string[];
  const type = types.join(' or ');
  if (property.format) return `${type} (${property.format})`;
  if (property.items) return `${type} of ${typeNameOf(property.items)}`;
  return type;
}

function summarise(row: {
  pathwayId: string;
  version: number;
  checksum: string;
  deployedBy: string;
  deployedAt: Date;
  changeNote?: string | null;
  ir: unknown;
}): PathwayVersionSummary {
  return {
    pathwayId: row.pathwayId,
    name: (row.ir as PathwayIR).name,
    version: row.version,
    checksum: row.checksum,
    deployedBy: row.deployedBy,
    deployedAt: row.deployedAt.toISOString(),
    changeNote: row.changeNote ?? null,
  };
}
