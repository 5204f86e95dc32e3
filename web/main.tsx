// The Latchkey dashboard: a Preact app that talks to this server only through the public API (the routes the
// Seam SDKs use), with the API key the user typed. Hash routes: #/devices, #/devices/<device_id>.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type ApiError, call, session, setUnauthorizedHandler } from './api.ts';
import { setClockWorkspace } from './lib/clock.ts';
import { DevicePage } from './pages/Device.tsx';
import { Devices } from './pages/Devices.tsx';
import { SignIn } from './pages/SignIn.tsx';
import type { Workspace } from './types.ts';

type Route = { page: 'devices' } | { page: 'device'; deviceId: string };

function routeOf(hash: string): Route {
  const match = /^#\/devices\/([^/?#]+)/.exec(hash);
  return match?.[1] ? { page: 'device', deviceId: decodeURIComponent(match[1]) } : { page: 'devices' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeOf(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

type Auth =
  | { state: 'checking' }
  | { state: 'signed_out'; notice: string | null }
  | { state: 'signed_in'; workspace: Workspace };

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<Auth>(() =>
    session.key() === null ? { state: 'signed_out', notice: null } : { state: 'checking' },
  );

  const signOut = (notice: string | null) => {
    session.signOut();
    setClockWorkspace(null);
    setAuth({ state: 'signed_out', notice });
  };
  const signedIn = (workspace: Workspace) => {
    setClockWorkspace(workspace.workspace_id);
    setAuth({ state: 'signed_in', workspace });
  };

  useEffect(() => {
    setUnauthorizedHandler((error: ApiError) => signOut(`Signed out: ${error.message}`));
    if (session.key() === null) return;
    call<{ workspace: Workspace }>('/workspaces/get')
      .then((answer) => signedIn(answer.workspace))
      .catch((error: ApiError) => signOut(`Signed out: ${error.message}`));
  }, []);

  if (auth.state === 'checking') return <p class="page muted">Checking your API key…</p>;
  if (auth.state === 'signed_out') {
    return (
      <SignIn
        notice={auth.notice}
        onSignedIn={(key, workspace) => {
          session.signIn(key);
          if (location.hash === '') location.hash = '#/devices';
          signedIn(workspace);
        }}
      />
    );
  }
  const { workspace } = auth;
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/devices">
          <img class="brand-mark" src="/favicon.svg" alt="" width={22} height={22} /> Latchkey
        </a>
        <span class="workspace" data-testid="workspace-name">
          {workspace.name}
          {workspace.is_sandbox ? <span class="badge">sandbox</span> : null}
        </span>
        <nav class="topnav" aria-label="Main">
          <a href="#/devices">Devices</a>
          <a href="/docs">API docs</a>
          <button type="button" class="small" onClick={() => signOut('Signed out.')}>
            Sign out
          </button>
        </nav>
      </header>
      {route.page === 'device' ? (
        <DevicePage key={route.deviceId} deviceId={route.deviceId} workspace={workspace} />
      ) : (
        <Devices />
      )}
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
