import { PageTitle } from '../../components/PageTitle';

export function VerificationPage(_: { id: string }) {
  return <PageTitle title="Verification" />;
}
