/**
 * Which images of the installation's own ECR registry an environment may run (docs/security.md
 * "Images"): only those its repository owns. Every execution role of an installation can pull
 * from the account's ECR (the shared one from every repository of it), so without this rule
 * repository A could run B's private image, override its command with a hook and read its
 * contents from the logs route. A repository `owner/name` owns the ECR repositories named
 *   <root>/<owner>/<name>/...   (lower case; `<root>` is the secret root, default `fledge`)
 * in the installation's account, in any region. Images of other registries and of other
 * accounts' ECR registries are not judged here (pulling those needs no grant of this
 * installation's). Pure.
 *
 * ECR repository names are lower case: "(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
 * 2 to 256 characters (Amazon ECR API Reference, CreateRepository, `repositoryName`). So the
 * namespace is the repository's name lowered (`Acme/Web` owns `fledge/acme/web/...`, as
 * `acme/web` would: GitHub names differ only in case for the same repository), and a GitHub
 * name ECR cannot express (`acme/.github`, `acme/my--app`, `acme/_tools`: a component that
 * starts or ends with `.`, `_` or `-`, or two of them in a row) owns no ECR namespace: such a
 * repository runs images of other registries only.
 */
import type { FieldError } from './errors.ts';
import { ownsSecrets, type SecretScope } from './secret-ownership.ts';

/** What the rule needs of the installation: its account (undefined: unknown) and the namespaces' root. */
export type ImageScope = Pick<SecretScope, 'account' | 'root'>;

/**
 * A private ECR registry's host: `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`, the
 * dual-stack `<account>.dkr-ecr[-fips].<region>.on.aws` (Amazon ECR User Guide, "Making requests to
 * Amazon ECR registries"), the ISO partitions' `<account>.dkr.ecr.<region>.c2s.ic.gov` and
 * `.sc2s.sgov.gov`, and whatever suffix a later partition or endpoint form brings. Fail closed: only
 * the start of the host is read, so a form not listed here still counts as an ECR registry (of the
 * installation's account, when the account is the installation's) rather than as another registry,
 * which would let any repository run any image of the installation's ECR. A look-alike host
 * (`<account>.dkr.ecr.<region>.amazonaws.com.example.com`) is judged too: refusing it to a
 * repository that does not own the name costs nothing. Hosts are case-insensitive, so the host is
 * lowered first.
 */
const ECR_HOST = /^(\d{12})\.dkr[.-]ecr(?:-fips)?\./;
/** One component of an ECR repository name (CreateRepository `repositoryName`, split at `/`). */
const ECR_COMPONENT = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/**
 * The ECR namespace `repository` owns (`fledge/acme/web/`), or undefined when it owns none: not
 * `owner/name`, or a name (or root) ECR cannot express.
 */
export function ecrNamespace(root: string, repository: string | undefined): string | undefined {
  if (!ownsSecrets(repository)) return undefined;
  const components = `${root}/${repository}`.toLowerCase().split('/');
  return components.every((component) => ECR_COMPONENT.test(component)) ? `${components.join('/')}/` : undefined;
}

/** The registry host (lowered, without its port) and the repository name of an OCI reference; no host: Docker Hub. */
function splitReference(image: string): { host: string | undefined; name: string } {
  const beforeDigest = image.split('@')[0]!;
  const slash = beforeDigest.indexOf('/');
  const first = slash === -1 ? '' : beforeDigest.slice(0, slash);
  // as Docker parses it: the first component is a registry only with a dot or a port, or as localhost
  const hasHost = slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const path = hasHost ? beforeDigest.slice(slash + 1) : beforeDigest;
  const lastSlash = path.lastIndexOf('/');
  const tagColon = path.indexOf(':', lastSlash + 1);
  return { host: hasHost ? first.split(':')[0]!.toLowerCase() : undefined, name: tagColon === -1 ? path : path.slice(0, tagColon) };
}

/** Why `repository` may not run `image`, or undefined when it may (or when the image is not in the installation's ECR). */
export function imageProblem(image: string, repository: string | undefined, scope: ImageScope): string | undefined {
  const { host, name } = splitReference(image);
  const account = host === undefined ? undefined : ECR_HOST.exec(host)?.[1];
  // not a private ECR registry, or another account's (an installation that does not know its account treats every one as its own)
  if (account === undefined || (scope.account !== undefined && account !== scope.account)) return undefined;
  if (!ownsSecrets(repository)) {
    return "an environment runs only images of its repository from this installation's ECR registry: set labels.repository (owner/name, fixed at create) to the repository that owns this image";
  }
  const namespace = ecrNamespace(scope.root, repository);
  if (namespace === undefined) {
    return `repository "${repository}" owns no ECR namespace (ECR repository names are lower-case components of letters and digits joined by single ".", "_" or "-"): use an image of another registry`;
  }
  if (!name.startsWith(namespace) || name.length === namespace.length) {
    return `must be an image of repository "${repository}": in this installation's ECR registry, an ECR repository named ${namespace}<name>`;
  }
  return undefined;
}

/** Every image of a spec, the app's and its sidecars', with the path that names it (`image`, `sidecars.0.image`). Hooks run these same images. */
export function imageReferencesOf(spec: ImagesHolder): { path: string; image: string }[] {
  return [{ path: 'image', image: spec.image }, ...(spec.sidecars ?? []).map((sidecar, index) => ({ path: `sidecars.${index}.image`, image: sidecar.image }))];
}

/** What a spec holds images in: the app and each sidecar. */
export interface ImagesHolder {
  image: string;
  labels: Record<string, string>;
  sidecars?: readonly { image: string }[] | undefined;
}

/** One `image` (or `sidecars.<i>.image`) error per image of the installation's ECR the environment's repository does not own. */
export function imageOwnershipErrors(spec: ImagesHolder, scope: ImageScope): FieldError[] {
  return imageReferencesOf(spec).flatMap(({ path, image }) => {
    const problem = imageProblem(image, spec.labels.repository, scope);
    return problem ? [{ path, message: problem }] : [];
  });
}
