/**
 * Notification transports: GOV.UK Notify when an API key is configured, SMTP when an SMTP URL is, and
 * otherwise a local inbox table that the web front end shows, so a development install "sends" without
 * reaching anyone. Each transport turns its provider's failures into DeliveryErrors that say whether
 * another attempt could succeed.
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { NotifyClient } from 'notifications-node-client';
import { type Logger } from '../../log';
import { type ContactChannel, type PostalAddress, type Store } from '../../store';
import { DeliveryError } from '../errors';
import { DEFAULT_TEMPLATES, renderMessage, type MessageTemplates } from './templates';

export interface OutboundMessage {
  notificationId: string;
  channel: ContactChannel;
  template: string;
  personalisation: Record<string, string>;
  recipient: {
    name: string;
    email: string | null;
    phone: string | null;
    address: PostalAddress | null;
  };
}

export interface NotificationTransport {
  /** Recorded on the outbox row: `govuk-notify`, `smtp` or `local-inbox`. */
  readonly name: string;
  send(message: OutboundMessage): Promise<{ providerReference: string }>;
  close(): Promise<void>;
}

/** Provider messages can quote the address they refused; keep addresses out of stored errors and histories. */
export function redactAddresses(text: string): string {
  return text.replace(/[^\s<>"']+@[^\s<>"']+/g, '[email]').replace(/\+?\d[\d -]{8,}\d/g, '[phone]');
}

function requireAddress<T>(value: T | null, channel: string): T {
  if (value === null) throw new DeliveryError(`the contact has no ${channel} address`, false);
  return value;
}

export interface SmtpTransportOptions {
  smtpUrl: string;
  from: string;
  templates?: MessageTemplates;
  logger: Logger;
}

/** Email over SMTP. 4xx replies and connection failures are worth retrying; 5xx replies are final. */
export function createSmtpTransport(options: SmtpTransportOptions): NotificationTransport {
  const transporter = nodemailer.createTransport(options.smtpUrl);
  return {
    name: 'smtp',
    async send(message) {
      if (message.channel !== 'email') {
        throw new DeliveryError(`SMTP cannot deliver the ${message.channel} channel`, false);
      }
      const to = requireAddress(message.recipient.email, 'email');
      const rendered = renderMessage(message.template, message.personalisation, options.templates);
      try {
        const info = (await transporter.sendMail({
          from: options.from,
          to: { name: message.recipient.name, address: to },
          subject: rendered.subject,
          text: rendered.body,
          headers: { 'X-Throughcare-Notification': message.notificationId },
        })) as { messageId: string };
        return { providerReference: info.messageId };
      } catch (error) {
        const responseCode = (error as { responseCode?: unknown }).responseCode;
        const permanent = typeof responseCode === 'number' && responseCode >= 500;
        const text = redactAddresses(error instanceof Error ? error.message : String(error));
        throw new DeliveryError(`SMTP delivery failed: ${text}`, !permanent, {
          cause: error,
          details: { responseCode: typeof responseCode === 'number' ? responseCode : undefined },
        });
      }
    },
    close: () => Promise.resolve(transporter.close()),
  };
}

export interface NotifyTransportOptions {
  apiKey: string;
  /** Defaults to the GOV.UK Notify production API; the key decides whether it is a test or live send. */
  baseUrl?: string;
  templates?: MessageTemplates;
  logger: Logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** GOV.UK Notify. 400 and 403 mean the request will never succeed; 429, 5xx and network failures may pass. */
export function createNotifyTransport(options: NotifyTransportOptions): NotificationTransport {
  const client = options.baseUrl ? new NotifyClient(options.baseUrl, options.apiKey) : new NotifyClient(options.apiKey);
  const templates = options.templates ?? DEFAULT_TEMPLATES;
  return {
    name: 'govuk-notify',
    async send(message) {
      const templateId = templates[message.template]?.notifyTemplateId ?? message.template;
      if (!UUID.test(templateId)) {
        throw new DeliveryError(`no GOV.UK Notify template id for template ${message.template}`, false);
      }
      const common = { personalisation: message.personalisation, reference: message.notificationId };
      try {
        switch (message.channel) {
          case 'email': {
            const response = await client.sendEmail(
              templateId,
              requireAddress(message.recipient.email, 'email'),
              common,
            );
            return { providerReference: response.data.id };
          }
          case 'sms': {
            const response = await client.sendSms(templateId, requireAddress(message.recipient.phone, 'sms'), common);
            return { providerReference: response.data.id };
          }
          case 'letter': {
            const address = requireAddress(message.recipient.address, 'letter');
            const lines = [message.recipient.name, ...address.lines, address.postcode];
            const addressFields = Object.fromEntries(
              lines.slice(0, 7).map((line, i) => [`address_line_${i + 1}`, line]),
            );
            const response = await client.sendLetter(templateId, {
              ...common,
              personalisation: { ...message.personalisation, ...addressFields },
            });
            return { providerReference: response.data.id };
          }
        }
      } catch (error) {
        if (error instanceof DeliveryError) throw error;
        const status = (error as { response?: { status?: unknown } }).response?.status;
        const permanent = status === 400 || status === 403;
        const text = redactAddresses(error instanceof Error ? error.message : String(error));
        throw new DeliveryError(`GOV.UK Notify delivery failed: ${text}`, !permanent, {
          cause: error,
          details: { status: typeof status === 'number' ? status : undefined },
        });
      }
    },
    close: () => Promise.resolve(),
  };
}

export interface LocalInboxTransportOptions {
  store: Store;
  templates?: MessageTemplates;
  logger: Logger;
}

/** Writes the rendered message to `inbox_messages`, once per notification, for the web front end to show. */
export function createLocalInboxTransport(options: LocalInboxTransportOptions): NotificationTransport {
  const knex = () => options.store.orm.em.getConnection().getKnex();
  return {
    name: 'local-inbox',
    async send(message) {
      const rendered = renderMessage(message.template, message.personalisation, options.templates);
      const recipient =
        { email: message.recipient.email, sms: message.recipient.phone, letter: message.recipient.address?.postcode }[
          message.channel
        ] ?? message.recipient.name;
      await knex()('inbox_messages')
        .insert({
          id: randomUUID(),
          notification_id: message.notificationId,
          channel: message.channel,
          recipient: `${message.recipient.name} <${recipient}>`,
          subject: rendered.subject,
          body: rendered.body,
        })
        .onConflict('notification_id')
        .ignore();
      const row = await knex()('inbox_messages')
        .where({ notification_id: message.notificationId })
        .first<{ id: string }>('id');
      return { providerReference: row.id };
    },
    close: () => Promise.resolve(),
  };
}

export interface NotificationTransportOptions {
  /** GOV.UK Notify API key; when set, Notify is used. */
  notifyApiKey?: string;
  notifyBaseUrl?: string;
  /** `smtp://user:pass@host:port`; used when no Notify key is set. */
  smtpUrl?: string;
  /** The From of SMTP emails. */
  emailFrom?: string;
  templates?: MessageTemplates;
  store: Store;
  logger: Logger;
}

/** Chooses the transport from configuration: Notify, then SMTP, then the local inbox. */
export function createNotificationTransport(options: NotificationTransportOptions): NotificationTransport {
  const logger = options.logger.child({ component: 'notification-transport' });
  if (options.notifyApiKey) {
    logger.info('notifications go through GOV.UK Notify');
    return createNotifyTransport({
      apiKey: options.notifyApiKey,
      baseUrl: options.notifyBaseUrl,
      templates: options.templates,
      logger,
    });
  }
  if (options.smtpUrl) {
    logger.info('notifications go through SMTP');
    return createSmtpTransport({
      smtpUrl: options.smtpUrl,
      from: options.emailFrom ?? 'Throughcare <no-reply@throughcare.invalid>',
      templates: options.templates,
      logger,
    });
  }
  logger.info('no GOV.UK Notify key or SMTP URL: notifications go to the local inbox');
  return createLocalInboxTransport({ store: options.store, templates: options.templates, logger });
}
