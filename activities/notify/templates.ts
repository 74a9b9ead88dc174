/**
 * Message templates for the transports that render their own text (SMTP, the local inbox). GOV.UK Notify
 * renders its own from a template id; the same `((placeholder))` syntax is used here so that one wording can
 * live in both places.
 */
export interface MessageTemplate {
  subject: string;
  body: string;
  /** The GOV.UK Notify template that carries the same wording, when Notify is the transport. */
  notifyTemplateId?: string;
}

export type MessageTemplates = Readonly<Record<string, MessageTemplate>>;

/** The messages the shipped pathways send. Wording avoids health detail: the recipient may not be a clinician. */
export const DEFAULT_TEMPLATES: MessageTemplates = {
  'missed-appointment': {
    subject: 'Missed appointment: ((service))',
    body:
      'An appointment with ((service)) on ((date)) was missed.\n\n' +
      'Please contact ((contactPoint)) if you can help them reconnect with the service.',
  },
  /** `notify.notifyStaff`: the pathway writes the subject and the message (with due date and case reference). */
  'staff-notice': {
    subject: '((subject))',
    body: '((message))',
  },
  'release-notice': {
    subject: 'Release from custody',
    body:
      'The person you are supporting is released from custody on ((releaseDate)).\n\n' +
      'Last dose of opioid substitution treatment in custody: ((lastOpioidSubstitutionDose)).\n' +
      'Take-home naloxone supplied: ((naloxoneSupplied)).\n\n' +
      'The first two weeks after release carry the highest risk of overdose.\n\nFollow-up: ((contactPoint)).',
  },
  /** 72 hours after a missed appointment after release, nobody has been in touch with the person. */
  'not-engaged-after-release': {
    subject: 'Urgent: not engaged since a missed appointment after release',
    body:
      'An appointment with ((service)) on ((date)) was missed and nobody has been in touch with the person since.\n\n' +
      'They were released on ((releaseDate)). The first two weeks after release carry the highest risk of overdose.\n\n' +
      'Please try to make contact today and tell ((contactPoint)).',
  },
};

export interface RenderedMessage {
  subject: string;
  body: string;
}

function fill(text: string, personalisation: Readonly<Record<string, string>>): string {
  return text.replace(/\(\(([A-Za-z0-9_ -]+)\)\)/g, (_, key: string) => personalisation[key.trim()] ?? `((${key}))`);
}

/**
 * Fills the named template. A template that is not known is still delivered, as its personalisation listed
 * line by line, rather than lost: the outbox entry was written on purpose.
 */
export function renderMessage(
  template: string,
  personalisation: Readonly<Record<string, string>>,
  templates: MessageTemplates = DEFAULT_TEMPLATES,
): RenderedMessage {
  const known = templates[template];
  if (known) return { subject: fill(known.subject, personalisation), body: fill(known.body, personalisation) };
  const lines = Object.entries(personalisation).map(([key, value]) => `${key}: ${value}`);
  return { subject: template.replace(/[-_]/g, ' '), body: lines.join('\n') };
}
