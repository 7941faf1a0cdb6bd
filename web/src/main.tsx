import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import { createTheme, MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { StepUpProvider } from './components/auth/StepUpProvider';
import { RouterProvider } from './lib/router';
import { SessionProvider } from './lib/session';
import { TenantProvider } from './lib/tenant';

const theme = createTheme({
  primaryColor: 'indigo',
  defaultRadius: 'md',
  fontFamily: 'Inter, "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", Arial, sans-serif',
  focusRing: 'auto',
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="light">
      <Notifications position="top-right" />
      <RouterProvider>
        <SessionProvider>
          <TenantProvider>
            <StepUpProvider>
              <App />
            </StepUpProvider>
          </TenantProvider>
        </SessionProvider>
      </RouterProvider>
    </MantineProvider>
  </StrictMode>,
);
