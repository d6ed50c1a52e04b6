/** The dashboard: hash routes `#/` (the list) and `#/env/<name>` (an environment). */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './app.css';
import { TokenBox } from './auth.tsx';
import { EnvironmentPage } from './environment.tsx';
import { ListPage } from './list.tsx';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

function App() {
  const hash = useHash();
  const env = /^#\/env\/([^/]+)$/.exec(hash);
  let name: string | undefined;
  try {
    name = env ? decodeURIComponent(env[1]!) : undefined;
  } catch {
    name = undefined;
  }
  return (
    <>
      <header>
        <a class="brand" href="#/">Fledge</a>
        <TokenBox />
      </header>
      {name ? <EnvironmentPage key={name} name={name} /> : <ListPage />}
    </>
  );
}

render(<App />, document.getElementById('app')!);
