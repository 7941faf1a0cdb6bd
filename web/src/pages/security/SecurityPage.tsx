import { PageTitle } from '../../components/PageTitle';

export function SecurityPage() {
  return <PageTitle title="Sign-in & security" />;
}
