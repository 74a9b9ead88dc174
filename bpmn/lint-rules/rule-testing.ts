/**
 * Test helper for lint rules: lints a fixture beside the rule with that one rule only, the way bpmnlint's
 * own rule tests run a rule over valid and invalid diagrams.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { type LintFinding } from '../ir';
import { lintPathway } from '../lint-pathway';
import { THROUGHCARE_PLUGIN, THROUGHCARE_RULES } from './index';

export async function lintWithRule(
  rule: string,
  fixture: 'valid' | 'invalid',
  options: { taskTypes?: string[]; formIds?: string[] } = {},
): Promise<LintFinding[]> {
  const xml = readFileSync(join(__dirname, 'fixtures', rule, `${fixture}.bpmn`), 'utf8');
  const findings = await lintPathway(xml, options);
  const name = `${THROUGHCARE_PLUGIN}/${rule}`;
  if (!(rule in THROUGHCARE_RULES)) throw new Error(`unknown rule ${rule}`);
  return findings.filter((finding) => finding.rule === name);
}
