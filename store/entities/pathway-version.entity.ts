/**
 * Pathway versions: each deployed BPMN pathway, stored immutably with its compiled IR. Running cases stay on
 * the version they started with, so a version is never changed once written; a change is a new version.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const PathwayVersionSchema = defineEntity({
  name: 'PathwayVersion',
  tableName: 'pathway_versions',
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    pathwayId: p.string().length(255),
    version: p.integer(),
    /** sha256 of the BPMN XML, hex: deploying the same file twice finds the existing version. */
    checksum: p.string().length(64),
    bpmnXml: p.text(),
    ir: p.json<unknown>(),
    deployedBy: p.string().length(255),
    deployedAt: p.datetime().defaultRaw('now()'),
    /** Why this version was made, as whoever published it wrote it (null for versions deployed without one). */
    changeNote: p.text().nullable(),
  },
  uniques: [
    { name: 'pathway_versions_pathway_id_version_unique', properties: ['pathwayId', 'version'] },
    { name: 'pathway_versions_pathway_id_checksum_unique', properties: ['pathwayId', 'checksum'] },
  ],
  checks: [
    { name: 'pathway_versions_version_positive', expression: 'version >= 1' },
    { name: 'pathway_versions_checksum_sha256_hex', expression: `checksum ~ '^[0-9a-f]{64}$'` },
  ],
});
export type PathwayVersion = InferEntity<typeof PathwayVersionSchema>;
