/**
 * throughcare/timer-iso8601: a literal timer must be valid ISO 8601 for its kind (a duration such as `P5D`,
 * a zoned date-time such as `2026-03-01T09:00:00Z`, a repeating interval such as `R3/P1D`), and of a kind
 * the event may use: intermediate events and interrupting boundary events do not cycle. FEEL timers are
 * checked by feel-syntax and at run time.
 */
import { parseIsoDateTime, parseIsoDuration, parseRepeatingInterval } from '../iso8601';
import { booleanOf, expressionBodyOf, is } from '../moddle';
import { reportFinding, type LintRuleFactory } from './rule';

const FORMS = {
  timeDuration: { parse: parseIsoDuration, example: 'P5D, PT12H or P13W' },
  timeDate: { parse: parseIsoDateTime, example: '2026-03-01T09:00:00Z (with Z or an offset)' },
  timeCycle: { parse: parseRepeatingInterval, example: 'R3/P1D, or R/P1D to repeat without end' },
} as const;

const timerIso8601: LintRuleFactory = () => ({
  check(node, reporter) {
    if (!is(node, 'bpmn:TimerEventDefinition') || !node.$parent) return;
    const event = node.$parent;
    const present = (Object.keys(FORMS) as (keyof typeof FORMS)[]).filter(
      (property) => expressionBodyOf(node, property) !== undefined,
    );
    if (present.length !== 1) {
      reportFinding(
        reporter,
        event,
        present.length === 0 ? 'Timer has no time set' : 'Timer sets more than one of duration, date and cycle',
        'Set exactly one of Timer > Type duration, date or cycle, with its value.',
      );
      return;
    }
    const [property] = present as [keyof typeof FORMS];
    const body = (expressionBodyOf(node, property) ?? '').trim();
    if (!body.startsWith('=') && FORMS[property].parse(body) === undefined) {
      reportFinding(
        reporter,
        event,
        `Timer value '${body}' is not a valid ISO 8601 ${property === 'timeDuration' ? 'duration' : property === 'timeDate' ? 'date-time' : 'repeating interval'}`,
        `Write it as ISO 8601, for example ${FORMS[property].example}, or as a FEEL expression starting with '='.`,
      );
    }
    const interrupting = !is(event, 'bpmn:BoundaryEvent') || booleanOf(event, 'cancelActivity') !== false;
    if (property === 'timeCycle' && interrupting && !is(event, 'bpmn:StartEvent')) {
      reportFinding(
        reporter,
        event,
        'A cycle timer only repeats on a non-interrupting boundary event',
        'Use a duration or date here, or make the boundary event non-interrupting for a repeating reminder.',
      );
    }
  },
});

export default timerIso8601;
