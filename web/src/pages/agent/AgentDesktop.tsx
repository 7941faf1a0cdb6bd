import { PageTitle } from '../../components/PageTitle';

export function AgentDesktop() {
  return <PageTitle title="Caller verification" />;
}
