/**
 * throughcare/feel-syntax: every FEEL expression in a pathway must parse (sequence flow conditions, io
 * mappings, assignment, due and follow-up dates, priorities, timers, message names and correlation keys,
 * called process ids). A condition that does not parse would stop a case at run time with an incident.
 */
import { findFeelSyntaxError, stripFeelMarker } from '../feel';
import { elementsOf, expressionBodyOf, extensionOf, is, stringOf, type ModdleElement } from '../moddle';
import { reportFinding, type LintRuleFactory } from './rule';

interface Expression {
  readonly where: string;
  readonly text: string;
  /** Conditions are FEEL with or without `=`; attributes are FEEL only when they start with `=`. */
  readonly alwaysFeel: boolean;
}

function attribute(element: ModdleElement | undefined, property: string, where: string): Expression[] {
  const text = stringOf(element, property);
  return text === undefined ? [] : [{ where, text, alwaysFeel: false }];
}

function expressionsOf(node: ModdleElement): Expression[] {
  const found: Expression[] = [];
  if (is(node, 'bpmn:SequenceFlow')) {
    const body = expressionBodyOf(node, 'conditionExpression');
    if (body !== undefined) found.push({ where: 'condition', text: body, alwaysFeel: true });
  }
  const io = extensionOf(node, 'zeebe:IoMapping');
  for (const [property, label] of [
    ['inputParameters', 'input mapping'],
    ['outputParameters', 'output mapping'],
  ] as const) {
    for (const parameter of elementsOf(io, property)) {
      found.push(...attribute(parameter, 'source', `${label} '${stringOf(parameter, 'target') ?? ''}'`));
    }
  }
  const assignment = extensionOf(node, 'zeebe:AssignmentDefinition');
  found.push(...attribute(assignment, 'assignee', 'assignee'));
  found.push(...attribute(assignment, 'candidateGroups', 'candidate groups'));
  found.push(...attribute(assignment, 'candidateUsers', 'candidate users'));
  const schedule = extensionOf(node, 'zeebe:TaskSchedule');
  found.push(...attribute(schedule, 'dueDate', 'due date'));
  found.push(...attribute(schedule, 'followUpDate', 'follow-up date'));
  found.push(...attribute(extensionOf(node, 'zeebe:PriorityDefinition'), 'priority', 'priority'));
  found.push(...attribute(extensionOf(node, 'zeebe:CalledElement'), 'processId', 'called process id'));
  found.push(...attribute(extensionOf(node, 'zeebe:TaskDefinition'), 'retries', 'retries'));
  if (is(node, 'bpmn:Message')) {
    found.push(...attribute(node, 'name', 'message name'));
    found.push(...attribute(extensionOf(node, 'zeebe:Subscription'), 'correlationKey', 'correlation key'));
  }
  if (is(node, 'bpmn:TimerEventDefinition')) {
    for (const property of ['timeDuration', 'timeDate', 'timeCycle']) {
      const body = expressionBodyOf(node, property);
      if (body !== undefined) found.push({ where: 'timer', text: body, alwaysFeel: false });
    }
  }
  return found;
}

const feelSyntax: LintRuleFactory = () => ({
  check(node, reporter) {
    // Timer definitions have no id of their own; report them on their event.
    const subject = is(node, 'bpmn:TimerEventDefinition') && node.$parent ? node.$parent : node;
    for (const expression of expressionsOf(node)) {
      const isFeel = expression.alwaysFeel || expression.text.trim().startsWith('=');
      if (!isFeel) continue;
      const feel = stripFeelMarker(expression.text);
      const problem = findFeelSyntaxError(feel);
      if (problem) {
        reportFinding(
          reporter,
          subject,
          `The ${expression.where} '${expression.text.trim()}' is not valid FEEL: ${problem}`,
          `Correct the FEEL expression of the ${expression.where} (see the Camunda 8 FEEL reference); a literal value must not start with '='.`,
        );
      }
    }
  },
});

export default feelSyntax;
