/** A simulation report as people read it: one line per event in London time, then PASSED or the failures. */
import type { SimulationReport } from './simulator';
import type { SimulationEvent } from './timeline';

const london = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'short',
  day: '2-digit',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** `Mon 01 Mar 2027, 14:10` */
export function londonDateTime(iso: string): string {
  return london.format(new Date(iso));
}

/** `Sun 07 Mar 2027, 00:00  overdue          5-day review overdue: sent to ...` */
export function formatTimelineLine(event: SimulationEvent): string {
  const text = event.dueAt ? event.text.replace(event.dueAt, londonDateTime(event.dueAt)) : event.text;
  const mark = event.kind === 'expectation' ? (event.passed ? 'ok ' : 'NOT ') : '';
  return `${londonDateTime(event.at)}  ${event.kind.padEnd(14)} ${mark}${text}`;
}

export function formatReport(report: SimulationReport): string {
  const seconds = (report.realMs / 1000).toFixed(1);
  return [
    `${report.pathwayId}: ${londonDateTime(report.simulatedFrom)} to ${londonDateTime(report.simulatedTo)} (London time), simulated in ${seconds} s`,
    ...report.events.map(formatTimelineLine),
    report.passed ? 'PASSED' : `FAILED\n${report.failures.map((f) => `  - ${f}`).join('\n')}`,
  ].join('\n');
}
