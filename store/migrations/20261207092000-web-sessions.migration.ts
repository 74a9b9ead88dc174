// By hand: the table connect-pg-simple keeps browser sessions in (api/auth/session.ts), its columns as that
// library reads and writes them. No entity maps it: only the session store touches it.
import { Migration } from '@mikro-orm/migrations';

/**
 * Browser sessions after the OpenID Connect sign-in, kept in PostgreSQL so a signed-in person stays signed in
 * across a restart and across API processes. `expire` is when the session ends unless a request renews it;
 * the store deletes expired rows itself.
 */
export class Migration20261207092000_web_sessions extends Migration {
  override up(): void {
    this.addSql(
      `create table "web_sessions" ("sid" varchar(255) not null, "sess" json not null, "expire" timestamptz(6) not null, constraint "web_sessions_pkey" primary key ("sid"));`,
    );
    this.addSql(`create index "web_sessions_expire_index" on "web_sessions" ("expire");`);
  }

  override down(): void {
    this.addSql(`drop table if exists "web_sessions" cascade;`);
  }
}
