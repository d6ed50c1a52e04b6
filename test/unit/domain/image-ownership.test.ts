/**
 * Images of the installation's own ECR registry an environment may run (docs/security.md
 * "Images"): only those under its repository's namespace `<root>/<owner>/<name>/`, lower case.
 */
import { describe, expect, it } from 'vitest';
import { ecrNamespace, imageOwnershipErrors, imageProblem, type ImageScope } from '../../../functions/domain/image-ownership.ts';

const ACCOUNT = '123456789012';
const SCOPE: ImageScope = { account: ACCOUNT, root: 'fledge' };
const ecr = (name: string, host = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`) => `${host}/${name}`;

describe("a repository's ECR namespace", () => {
  it('is <root>/<owner>/<name>/ in lower case (ECR repository names are lower case)', () => {
    expect(ecrNamespace('fledge', 'acme/web')).toBe('fledge/acme/web/');
    expect(ecrNamespace('fledge', 'Acme/Web.Site')).toBe('fledge/acme/web.site/');
    expect(ecrNamespace('Previews', 'acme/web_app')).toBe('previews/acme/web_app/');
  });

  it.each([
    ['a name starting with a dot', 'acme/.github'],
    ['two separators in a row', 'acme/my--app'],
    ['a name starting with an underscore', 'acme/_tools'],
    ['a name ending with a hyphen', 'acme/web-'],
    ['no owner', 'web'],
    ['no repository at all', undefined],
  ])('is none for %s (ECR cannot express it)', (_case, repository) => {
    expect(ecrNamespace('fledge', repository)).toBeUndefined();
  });

  it('is none under a root ECR cannot express', () => {
    expect(ecrNamespace('_fledge', 'acme/web')).toBeUndefined();
  });
});

describe('which images of the installation\'s ECR a repository may run', () => {
  it("accepts its own namespace's images, by tag or digest, in any region, FIPS, China and dual-stack hosts", () => {
    for (const image of [
      ecr('fledge/acme/web/app:pr-42'),
      ecr('fledge/acme/web/team/app'),
      ecr(`fledge/acme/web/app@sha256:${'a'.repeat(64)}`),
      ecr('fledge/acme/web/app:1', `${ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com`),
      ecr('fledge/acme/web/app:1', `${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn`),
      ecr('fledge/acme/web/app:1', `${ACCOUNT}.dkr-ecr.eu-west-1.on.aws`),
      ecr('fledge/acme/web/app:1', `${ACCOUNT}.DKR.ECR.EU-WEST-1.AMAZONAWS.COM:443`),
    ]) expect(imageProblem(image, 'acme/web', SCOPE), image).toBeUndefined();
    // a GitHub name in capitals owns the lower-case namespace
    expect(imageProblem(ecr('fledge/acme/web/app:1'), 'Acme/Web', SCOPE)).toBeUndefined();
  });

  it.each([
    ["B's image", ecr('fledge/acme/billing/app:1')],
    ['a namespace that only starts alike', ecr('fledge/acme/web-evil/app:1')],
    ['the namespace itself, no image name', ecr('fledge/acme/web:1')],
    ['an image outside the root', ecr('web:1')],
    ["B's image on a FIPS host", ecr('fledge/acme/billing/app:1', `${ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com`)],
    ["B's image on a dual-stack host", ecr('fledge/acme/billing/app:1', `${ACCOUNT}.dkr-ecr.eu-west-1.on.aws`)],
    ["B's image on a China host", ecr('fledge/acme/billing/app:1', `${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn`)],
  ])('refuses %s, naming the namespace expected and no account id', (_case, image) => {
    const problem = imageProblem(image, 'acme/web', SCOPE);
    expect(problem).toMatch(/repository "acme\/web".*fledge\/acme\/web\/<name>/);
    expect(problem).not.toMatch(/\d{12}/);
  });

  it('refuses every image of the account\'s ECR to an environment without a repository, or one ECR cannot name', () => {
    expect(imageProblem(ecr('fledge/acme/web/app:1'), undefined, SCOPE)).toMatch(/set labels.repository/);
    expect(imageProblem(ecr('fledge/acme/web/app:1'), 'acme', SCOPE)).toMatch(/set labels.repository/);
    expect(imageProblem(ecr('fledge/acme/github/app:1'), 'acme/.github', SCOPE)).toMatch(/owns no ECR namespace/);
  });

  it("leaves alone images of other registries and of other accounts' ECR", () => {
    for (const image of [
      'nginx:1',
      'library/nginx',
      'ghcr.io/acme/billing:1',
      'public.ecr.aws/acme/billing:1',
      'localhost:5000/fledge/acme/billing:1',
      ecr('fledge/acme/billing/app:1', '210987654321.dkr.ecr.eu-west-1.amazonaws.com'),
      ecr('fledge/acme/billing/app:1', '210987654321.dkr.ecr.us-iso-east-1.c2s.ic.gov'),
      // an account id that is not the start of the host, or a host that is not `dkr.ecr`
      ecr('fledge/acme/billing/app:1', `registry.${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`),
      ecr('fledge/acme/billing/app:1', `${ACCOUNT}.ecr.eu-west-1.amazonaws.com`),
    ]) expect(imageProblem(image, 'acme/web', SCOPE), image).toBeUndefined();
  });

  it("fails closed: the account's ECR under any host suffix (ISO partitions, forms to come, look-alikes) is judged", () => {
    for (const host of [
      `${ACCOUNT}.dkr.ecr.us-iso-east-1.c2s.ic.gov`,
      `${ACCOUNT}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov`,
      `${ACCOUNT}.dkr.ecr-fips.us-iso-east-1.c2s.ic.gov`,
      `${ACCOUNT}.dkr-ecr.eu-west-1.api.aws`,
      `${ACCOUNT}.DKR.ECR.eu-west-1.example`,
      `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com.example.com`,
    ]) {
      expect(imageProblem(ecr('fledge/acme/billing/app:1', host), 'acme/web', SCOPE), host).toMatch(/must be an image of repository "acme\/web"/);
      expect(imageProblem(ecr('fledge/acme/web/app:1', host), 'acme/web', SCOPE), host).toBeUndefined();
    }
    // with the account unknown, every such host is the installation's
    const unknown: ImageScope = { account: undefined, root: 'fledge' };
    expect(imageProblem(ecr('fledge/acme/billing/app:1', '210987654321.dkr.ecr.us-isob-east-1.sc2s.sgov.gov'), 'acme/web', unknown)).toMatch(/must be an image of repository/);
  });

  it('treats every ECR registry as its own while the installation does not know its account', () => {
    const unknown: ImageScope = { account: undefined, root: 'fledge' };
    expect(imageProblem(ecr('fledge/acme/billing/app:1', '210987654321.dkr.ecr.eu-west-1.amazonaws.com'), 'acme/web', unknown)).toMatch(/must be an image of repository/);
    expect(imageProblem(ecr('fledge/acme/web/app:1'), 'acme/web', unknown)).toBeUndefined();
  });

  it("judges the app's image and every sidecar's, naming each path", () => {
    const spec = {
      image: ecr('fledge/acme/billing/app:1'),
      labels: { repository: 'acme/web' },
      sidecars: [{ image: 'postgres:16' }, { image: ecr('fledge/acme/billing/worker:1') }, { image: ecr('fledge/acme/web/cache:1') }],
    };
    expect(imageOwnershipErrors(spec, SCOPE)).toEqual([
      { path: 'image', message: expect.stringMatching(/repository "acme\/web"/) },
      { path: 'sidecars.1.image', message: expect.stringMatching(/repository "acme\/web"/) },
    ]);
  });
});
