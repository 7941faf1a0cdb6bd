import { PageTitle } from '../components/PageTitle';

export function SetupPage() {
  return <PageTitle title="Set up your account" />;
}
