import { PageTitle } from '../../components/PageTitle';

export function ApprovalsPage() {
  return <PageTitle title="Approvals" />;
}
