/**
 * `throughcare dev-token --list | --user NAME [--ttl 1h]`: development sign-in for scripts and tests. The demo
 * users are the active staff of the directory (the development issuer's accounts); a token is an access
 * token as the development issuer of `throughcare up` issues one (its kept key, issuer, audience, roles and
 * settings claims), signed here with the key it keeps in DATA_DIR/dev-oidc, so the server need not be
 * asked and no endpoint hands out tokens without a sign-in: whoever can read the data directory can already
 * read the database. Refused with NODE_ENV=production, and when OIDC_ISSUER_URL names a real issuer.
 */
import type { Command } from 'commander';
import { devIssuerUrl, isRole, loadOrCreateDevKeys, signDevToken } from '../../api';
import { listStaff, type StaffSummary } from '../../engine';
import { localUrl } from '../../runtime';
import { readRuntimeInfo } from '../../runtime/discovery';
import { CommandFailure, commandContext, EXIT, print } from '../context';
import { withStore } from '../database';

const MAX_TTL_SECONDS = 7 * 24 * 3600;

export function registerDevToken(program: Command): void {
  program
    .command('dev-token')
    .description(
      'Development sign-in: list the demo users, or print a bearer token for one to call /api/v1 with (not with NODE_ENV=production)',
    )
    .option('--list', 'list who you can sign in as: name, roles, settings')
    .option('--user <name>', 'print a bearer token for this person (their name, email or subject)')
    .option('--ttl <duration>', 'how long the token is valid: e.g. 30m, 1h, 8h, 1d (at most 7d)', '1h')
    .option('--json', 'print JSON')
    .action(async (options: { list?: boolean; user?: string; ttl: string; json?: boolean }) => {
      const { config, logger } = commandContext();
      if (config.nodeEnv === 'production')
        throw new CommandFailure('dev-token is for development: it is refused with NODE_ENV=production');
      if (config.oidc.issuerUrl)
        throw new CommandFailure(
          `OIDC_ISSUER_URL is set, so the API accepts tokens from ${config.oidc.issuerUrl} only: get one from it`,
        );
      if (!options.list && options.user === undefined)
        throw new CommandFailure('Say --list to see the demo users, or --user NAME for a token', EXIT.usage);
      const ttlSeconds = parseTtl(options.ttl);
      const staff = await withStore(config, logger, (store) => listStaff(store, { activeOnly: true }));

      if (options.list) {
        if (options.json)
          return print(
            JSON.stringify(
              staff.map((s) => ({ name: s.name, roles: s.roles, settings: s.settings, subject: s.subject })),
              null,
              2,
            ),
          );
        if (staff.length === 0) return print('No active staff: `throughcare up` in development adds demo users.');
        const width = Math.max(...staff.map((s) => s.name.length));
        return print(
          staff
            .map(
              (s) =>
                `${s.name.padEnd(width)}  roles: ${s.roles.join(', ') || 'none'}  settings: ${s.settings.join(', ')}`,
            )
            .join('\n'),
        );
      }

      const person = findPerson(staff, options.user!);
      const running = await readRuntimeInfo(config.dataDir);
      const issuer = devIssuerUrl(running?.httpUrl ?? localUrl(config.host, config.port));
      if (!running)
        logger.warn(
          `no running \`throughcare up\` found for ${config.dataDir}: the token is for the development issuer ${issuer}`,
        );
      const keys = await loadOrCreateDevKeys(config.dataDir);
      const token = await signDevToken(keys, {
        issuer,
        audience: config.oidc.audience,
        ttlSeconds,
        subject: person.subject,
        name: person.name,
        roles: person.roles.filter(isRole),
        settings: person.settings,
      });
      if (options.json) {
        const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
        return print(
          JSON.stringify(
            {
              token,
              issuer,
              audience: config.oidc.audience,
              expiresAt,
              user: { name: person.name, subject: person.subject, roles: person.roles, settings: person.settings },
            },
            null,
            2,
          ),
        );
      }
      print(token);
    });
}

function findPerson(staff: readonly StaffSummary[], wanted: string): StaffSummary {
  const key = wanted.trim().toLowerCase();
  for (const field of ['name', 'email', 'subject'] as const) {
    const found = staff.filter((s) => (s[field] ?? '').toLowerCase() === key);
    if (found.length === 1) return found[0]!;
    if (found.length > 1)
      throw new CommandFailure(`More than one active member of staff is called ${wanted}: give their email instead`);
  }
  const names = staff.map((s) => s.name).join(', ');
  throw new CommandFailure(
    `No active member of staff is called ${wanted}${names ? `; the demo users are: ${names}` : ''} (dev-token --list)`,
  );
}

/** `30m`, `1h`, `8h`, `1d`, `90s`. */
export function parseTtl(text: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim());
  const seconds = match
    ? Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd']
    : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TTL_SECONDS)
    throw new CommandFailure(`--ttl must be a duration such as 30m, 1h or 1d, at most 7d (got ${text})`, EXIT.usage);
  return seconds;
}
