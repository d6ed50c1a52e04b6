/**
 * `fledge open`: a browser is started only where someone can see it (a desktop session, not
 * CI, not SSH without a display), detached, and its failure is ignored: `open` never fails a
 * pipeline for want of a browser.
 */
import { spawn } from 'node:child_process';
import { isCi } from './progress.ts';

/** The command that opens a URL here, or undefined when there is no display to open it on. */
export function browserCommand(platform: NodeJS.Platform, env: Record<string, string | undefined>): string[] | undefined {
  if (isCi(env)) return undefined;
  if (platform === 'darwin') return env.SSH_CONNECTION ? undefined : ['open'];
  if (platform === 'win32') return ['cmd', '/c', 'start', '""'];
  return env.DISPLAY || env.WAYLAND_DISPLAY ? ['xdg-open'] : undefined;
}

/** Starts the browser; true when one was started (not whether it managed to show the page). */
export function openInBrowser(url: string, platform: NodeJS.Platform, env: Record<string, string | undefined>): boolean {
  const command = browserCommand(platform, env);
  if (!command) return false;
  try {
    const child = spawn(command[0]!, [...command.slice(1), url], { detached: true, stdio: 'ignore' });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
