/**
 * Loads Lambda handler modules for local mode the way the Lambda runtime does: import the
 * module once, take its `handler` export, reuse it for every later invocation. A module that
 * fails to load is tried again on the next call.
 */
import { pathToFileURL } from 'node:url';

const modules = new Map<string, Promise<unknown>>();

export function loadHandlerModule<H>(file: string): Promise<H> {
  let loaded = modules.get(file);
  if (!loaded) {
    loaded = import(pathToFileURL(file).href).then((module: { handler?: unknown }) => {
      if (typeof module.handler !== 'function') throw new Error(`${file} does not export a handler`);
      return module.handler;
    });
    loaded.catch(() => modules.delete(file));
    modules.set(file, loaded);
  }
  return loaded as Promise<H>;
}
