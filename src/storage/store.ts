/** The repositories over one database: what the services depend on. */
import type { Database, Db } from './db.js';
import { ApiKeyRepo } from './repositories/api-keys.js';
import { ApprovalRepo } from './repositories/approvals.js';
import { AuditRepo } from './repositories/audit.js';
import { CounterRepo } from './repositories/counters.js';
import { CredentialRepo } from './repositories/credentials.js';
import { AuthenticatorModelRepo } from './repositories/authenticator-models.js';
import { CustomerRepo } from './repositories/customers.js';
import { MessageTemplateRepo } from './repositories/message-templates.js';
import { SigningKeyRepo } from './repositories/signing-keys.js';
import { RateWindowRepo } from './repositories/rate-windows.js';
import { FlowRepo } from './repositories/flows.js';
import { InvitationRepo } from './repositories/invitations.js';
import { OutboxRepo } from './repositories/outbox.js';
import { SessionRepo } from './repositories/sessions.js';
import { TenantRepo } from './repositories/tenants.js';
import { UserRepo } from './repositories/users.js';
import { WebhookReceiptRepo } from './repositories/webhook-receipts.js';

export interface Store {
  db: Db;
  kind: Database['kind'];
  tenants: TenantRepo;
  users: UserRepo;
  credentials: CredentialRepo;
  authenticatorModels: AuthenticatorModelRepo;
  counters: CounterRepo;
  flows: FlowRepo;
  sessions: SessionRepo;
  invitations: InvitationRepo;
  outbox: OutboxRepo;
  audit: AuditRepo;
  customers: CustomerRepo;
  templates: MessageTemplateRepo;
  rateWindows: RateWindowRepo;
  signingKeys: SigningKeyRepo;
  apiKeys: ApiKeyRepo;
  approvals: ApprovalRepo;
  webhookReceipts: WebhookReceiptRepo;
  close(): Promise<void>;
}

export function createStore(database: Database): Store {
  const db = database.db;
  return {
    db,
    kind: database.kind,
    tenants: new TenantRepo(db),
    users: new UserRepo(db),
    credentials: new CredentialRepo(db),
    authenticatorModels: new AuthenticatorModelRepo(db),
    counters: new CounterRepo(db),
    flows: new FlowRepo(db),
    sessions: new SessionRepo(db),
    invitations: new InvitationRepo(db),
    outbox: new OutboxRepo(db),
    audit: new AuditRepo(db),
    customers: new CustomerRepo(db),
    templates: new MessageTemplateRepo(db),
    rateWindows: new RateWindowRepo(db),
    signingKeys: new SigningKeyRepo(db),
    apiKeys: new ApiKeyRepo(db),
    approvals: new ApprovalRepo(db),
    webhookReceipts: new WebhookReceiptRepo(db),
    close: () => database.close(),
  };
}
