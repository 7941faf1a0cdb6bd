import { PageTitle } from '../components/PageTitle';

export function SignInPage() {
  return <PageTitle title="Sign in" />;
}
