import { PageTitle } from '../../components/PageTitle';

export function PolicyPage() {
  return <PageTitle title="MFA policy" />;
}
