import { PageTitle } from '../../components/PageTitle';

export function TenantsPage() {
  return <PageTitle title="Tenants" />;
}
