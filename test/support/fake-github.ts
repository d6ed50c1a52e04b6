/**
 * A local fake of the parts of GitHub's REST API the Action calls, for the real Octokit client
 * (baseUrl pointed here): issue comments (list with `per_page`/`page` and a Link header,
 * create, update, delete), pull requests (list by state), deployments (create, list by environment, newest first) and
 * deployment statuses (create, with `auto_inactive`). Shapes follow GitHub's REST API
 * reference ("Issue comments", "Deployments", "Deployment statuses"); only the fields the
 * Action or the tests read are filled in.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: 'Bot' | 'User' };
  created_at: string;
  updated_at: string;
}

export interface FakeDeployment {
  id: number;
  sha: string;
  ref: string;
  environment: string;
  description: string | null;
  transient_environment: boolean;
  production_environment: boolean;
  created_at: string;
  statuses: { id: number; state: string; environment_url: string; log_url: string; description: string }[];
}

const STATES = new Set(['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success']);

export interface FakeGitHub {
  url: string;
  token: string;
  /** issue number -> its comments, oldest first */
  comments: Map<number, FakeComment[]>;
  deployments: FakeDeployment[];
  /** the repository's pull requests (number and state) */
  pulls: { number: number; state: 'open' | 'closed' }[];
  /** every request, `METHOD /path?query` */
  requests: string[];
  /** when true, every write answers 403 as GitHub does to a read-only GITHUB_TOKEN */
  readOnly: boolean;
  addComment(issue: number, body: string, user?: FakeComment['user']): FakeComment;
  markedComments(issue: number, marker: string): FakeComment[];
  /** the state of a deployment's newest status */
  stateOf(deployment: FakeDeployment): string | undefined;
  close(): Promise<void>;
}

export async function startFakeGitHub(options: { token?: string } = {}): Promise<FakeGitHub> {
  let nextId = 1000;
  const token = options.token ?? 'ghs_fake-installation-token';
  const now = () => new Date().toISOString();
  const bot = { login: 'github-actions[bot]', type: 'Bot' as const };

  const fake: FakeGitHub = {
    url: '',
    close: async () => {},
    token,
    comments: new Map(),
    deployments: [],
    pulls: [],
    requests: [],
    readOnly: false,
    addComment(issue, body, user = bot) {
      const comment = { id: nextId++, body, user, created_at: now(), updated_at: now() };
      fake.comments.set(issue, [...(fake.comments.get(issue) ?? []), comment]);
      return comment;
    },
    markedComments: (issue, marker) => (fake.comments.get(issue) ?? []).filter((comment) => comment.body.startsWith(marker)),
    stateOf: (deployment) => deployment.statuses.at(-1)?.state,
  };

  const routes: [string, RegExp, (req: Request) => Answer][] = [
    ['GET', /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/, (req) => {
      const all = fake.comments.get(Number(req.params[0])) ?? [];
      return paginated(req, all);
    }],
    ['POST', /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/, (req) => {
      const body = req.body?.body;
      if (typeof body !== 'string' || body === '') return validationFailed('body');
      if (body.length > 65_536) return validationFailed('body is too long (maximum is 65536 characters)');
      return { status: 201, body: fake.addComment(Number(req.params[0]), body) };
    }],
    ['PATCH', /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/, (req) => {
      const comment = findComment(Number(req.params[0]));
      if (!comment) return notFound();
      if (typeof req.body?.body !== 'string') return validationFailed('body');
      Object.assign(comment, { body: req.body.body, updated_at: now() });
      return { status: 200, body: comment };
    }],
    ['DELETE', /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/, (req) => {
      const id = Number(req.params[0]);
      for (const [issue, list] of fake.comments) {
        if (list.some((comment) => comment.id === id)) {
          fake.comments.set(issue, list.filter((comment) => comment.id !== id));
          return { status: 204 };
        }
      }
      return notFound();
    }],
    ['GET', /^\/repos\/[^/]+\/[^/]+\/pulls$/, (req) => {
      const state = req.query.get('state') ?? 'open';
      return paginated(req, fake.pulls.filter((pr) => state === 'all' || pr.state === state).map((pr) => ({ ...pr, id: pr.number + 50_000 })));
    }],
    ['POST', /^\/repos\/[^/]+\/[^/]+\/deployments$/, (req) => {
      const b = req.body ?? {};
      if (typeof b.ref !== 'string') return validationFailed('ref');
      const deployment: FakeDeployment = {
        id: nextId++,
        sha: b.ref,
        ref: b.ref,
        environment: typeof b.environment === 'string' ? b.environment : 'production',
        description: typeof b.description === 'string' ? b.description : null,
        transient_environment: b.transient_environment === true,
        production_environment: b.production_environment === true,
        created_at: now(),
        statuses: [],
      };
      fake.deployments.push(deployment);
      return { status: 201, body: withoutStatuses(deployment) };
    }],
    ['GET', /^\/repos\/[^/]+\/[^/]+\/deployments$/, (req) => {
      const environment = req.query.get('environment');
      const matching = fake.deployments.filter((d) => environment === null || d.environment === environment).reverse();
      return paginated(req, matching.map(withoutStatuses));
    }],
    ['GET', /^\/repos\/[^/]+\/[^/]+\/deployments\/(\d+)\/statuses$/, (req) => {
      const deployment = fake.deployments.find((d) => d.id === Number(req.params[0]));
      // newest first, as GitHub lists them
      return deployment ? paginated(req, [...deployment.statuses].reverse()) : notFound();
    }],
    ['POST', /^\/repos\/[^/]+\/[^/]+\/deployments\/(\d+)\/statuses$/, (req) => {
      const deployment = fake.deployments.find((d) => d.id === Number(req.params[0]));
      if (!deployment) return notFound();
      const b = req.body ?? {};
      if (typeof b.state !== 'string' || !STATES.has(b.state)) return validationFailed('state');
      if (typeof b.description === 'string' && b.description.length > 140) return validationFailed('description is too long (maximum is 140 characters)');
      const status = {
        id: nextId++,
        state: b.state,
        environment_url: typeof b.environment_url === 'string' ? b.environment_url : '',
        log_url: typeof b.log_url === 'string' ? b.log_url : '',
        description: typeof b.description === 'string' ? b.description : '',
      };
      deployment.statuses.push(status);
      // auto_inactive (default true) "adds a new inactive status to all prior non-transient,
      // non-production environment deployments ... only ... to deployments that had a success
      // state" (REST API "Deployment statuses", Create a deployment status): transient ones are left
      if (b.state === 'success' && b.auto_inactive !== false) {
        for (const older of fake.deployments) {
          if (older !== deployment && older.environment === deployment.environment && !older.production_environment && !older.transient_environment && fake.stateOf(older) === 'success') {
            older.statuses.push({ id: nextId++, state: 'inactive', environment_url: '', log_url: '', description: '' });
          }
        }
      }
      return { status: 201, body: status };
    }],
  ];

  function findComment(id: number): FakeComment | undefined {
    for (const list of fake.comments.values()) {
      const comment = list.find((c) => c.id === id);
      if (comment) return comment;
    }
    return undefined;
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, { status: 500, body: { message: String(error) } }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    fake.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const text = await new Promise<string>((resolve) => {
      let data = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (data += chunk)).on('end', () => resolve(data));
    });
    if (req.headers.authorization !== `token ${token}` && req.headers.authorization !== `Bearer ${token}`) {
      return send(res, { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } });
    }
    for (const [method, pattern, answer] of routes) {
      const match = pattern.exec(url.pathname);
      if (!match || method !== req.method) continue;
      if (method !== 'GET' && fake.readOnly) {
        return send(res, { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' } });
      }
      const body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
      return send(res, answer({ params: match.slice(1), query: url.searchParams, body, url }));
    }
    send(res, notFound());
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

interface Request {
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
  url: URL;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** GitHub's pagination: `per_page` (default 30, at most 100), `page` from 1, a Link header with next/prev/first/last. */
function paginated(req: Request, items: unknown[]): Answer {
  const perPage = Math.min(100, Math.max(1, Number(req.query.get('per_page') ?? 30)));
  const page = Math.max(1, Number(req.query.get('page') ?? 1));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number, rel: string) => {
    const target = new URL(req.url);
    target.searchParams.set('per_page', String(perPage));
    target.searchParams.set('page', String(p));
    return `<${target.href}>; rel="${rel}"`;
  };
  const links = [
    ...(page > 1 ? [link(page - 1, 'prev'), link(1, 'first')] : []),
    ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
  ];
  return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers: links.length > 0 ? { link: links.join(', ') } : {} };
}

function withoutStatuses({ statuses: _statuses, ...deployment }: FakeDeployment) {
  return deployment;
}

const notFound = (): Answer => ({ status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } });
const validationFailed = (field: string): Answer => ({ status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Request', field, code: 'invalid' }] } });

function send(res: ServerResponse, answer: Answer): void {
  const headers = { ...answer.headers, ...(answer.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }) };
  res.writeHead(answer.status, headers);
  res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
}
