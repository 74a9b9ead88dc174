/** Notification delivery: the public face of activities/notify/. */
export {
  createNotifyActivities,
  type NotifyActivities,
  type NotifyActivitiesDeps,
  type DeliveryResult,
} from './notify.activities';
export {
  createNotificationTransport,
  createSmtpTransport,
  createNotifyTransport,
  createLocalInboxTransport,
  type NotificationTransport,
  type NotificationTransportOptions,
  type OutboundMessage,
} from './transports';
export { DEFAULT_TEMPLATES, renderMessage, type MessageTemplate, type MessageTemplates } from './templates';
