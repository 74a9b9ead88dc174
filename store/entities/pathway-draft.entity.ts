/**
 * Pathway drafts: BPMN a commissioner is still designing, saved on the server so it survives the browser and can
 * be shared. Not a clinical record, and not a version: a draft is changed in place (each save takes the next
 * `revision`, so two people cannot overwrite each other unseen), discarded at will, and removed when published,
 * the published version being the immutable record of what was deployed.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const PathwayDraftSchema = defineEntity({
  name: 'PathwayDraft',
  tableName: 'pathway_drafts',
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    /** The BPMN process id in the XML: the pathway it becomes a version of when published. */
    pathwayId: p.string().length(255),
    name: p.string().length(255),
    bpmnXml: p.text(),
    /** The deployed version it was started from; null when it was started from a file. */
    basedOnVersion: p.integer().nullable(),
    /** 1 when created, one more at each save: a save must name the revision it changes. */
    revision: p.integer().default(1),
    createdAt: p.datetime().defaultRaw('now()'),
    /** OIDC subjects of who created it and who saved it last. */
    createdBy: p.string().length(255),
    updatedAt: p.datetime().defaultRaw('now()'),
    updatedBy: p.string().length(255),
  },
  indexes: [{ name: 'pathway_drafts_updated_at', properties: ['updatedAt'] }],
  checks: [{ name: 'pathway_drafts_revision_positive', expression: 'revision >= 1' }],
});
export type PathwayDraft = InferEntity<typeof PathwayDraftSchema>;
