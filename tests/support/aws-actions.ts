/**
 * From a recorded AWS request to the IAM authorization it needs: the action, the resource ARN and
 * the request's condition keys. Requests come from moto's recorder (tests/support/moto-recorder.ts)
 * as raw HTTP (method, URL, headers, body), so the mapping reads the wire, whichever client sent
 * it. Fail-closed: a service, operation or sub-resource the tables do not know throws
 * {@link UnmappedRequestError}, instead of passing as a look-alike (`GET ?tagging` is not GetObject).
 *
 * Sources: the S3 API reference (method, path and sub-resource of each operation) and the Service
 * Authorization Reference for S3 and Secrets Manager (the action each operation needs, and which
 * actions carry the `s3:prefix` key).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
 */

/** One request as moto's recorder stores it (`moto/moto_api/_internal/recorder/models.py`). */
export interface RecordedRequest {
  readonly method: string;
  /** The raw URL: the path keeps its percent-encoding. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Empty when the request had none, or none the recorder could read (no Content-Length). */
  readonly body: Buffer;
}

/** What IAM authorizes for one request: a request may need several (CopyObject, DeleteObjects). */
export interface IamCall {
  /** The API operation, for messages: `CreateMultipartUpload`, `GetSecretValue`. */
  readonly operation: string;
  /** `service:Action`, as written in policies. */
  readonly action: string;
  /** The resource's ARN, or `*` for actions on no resource. */
  readonly resource: string;
  /** Condition keys this request sets (e.g. `s3:prefix`); absent keys are simply not here. */
  readonly context: Readonly<Record<string, string>>;
}

/** A request the tables cannot map: an unknown service, operation or sub-resource. */
export class UnmappedRequestError extends Error {
  override readonly name = "UnmappedRequestError";
}

/** moto's default account: the account of ARNs built from bare names. */
export const MOTO_ACCOUNT_ID = "123456789012";

/**
 * The recorder's file as requests. Entries are JSON objects, one a line; the server appends each
 * with two writes (the object, then the newline), so under concurrent requests two objects may
 * share a line: they are split by nesting, not by lines.
 */
export function parseRecording(text: string): RecordedRequest[] {
  const entries: RecordedRequest[] = [];
  for (const raw of jsonObjects(text)) {
    const e = JSON.parse(raw) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      body?: string | null;
      body_encoded?: boolean;
    };
    const body = e.body ? Buffer.from(e.body, e.body_encoded ? "base64" : "utf8") : Buffer.alloc(0);
    entries.push({ method: e.method, url: e.url, headers: e.headers, body });
  }
  return entries;
}

function* jsonObjects(text: string): Generator<string> {
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      if (depth === 0) throw new SyntaxError(`recording: text outside an entry at offset ${i}`);
      inString = true;
    } else if (ch === "{") {
      if (depth++ === 0) start = i;
    } else if (ch === "}") {
      if (--depth === 0) yield text.slice(start, i + 1);
      if (depth < 0) throw new SyntaxError(`recording: unbalanced '}' at offset ${i}`);
    } else if (depth === 0 && !/\s/.test(ch ?? "")) {
      throw new SyntaxError(`recording: text outside an entry at offset ${i}`);
    }
  }
  if (depth !== 0) throw new SyntaxError("recording: truncated entry at the end");
}

/** A header's value, by case-insensitive name. */
export function headerOf(request: RecordedRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(request.headers)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/** The SigV4 credential scope of a request: who signed it, for which region and service. */
export interface Signer {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

/** From the `Authorization` header, or a presigned URL's `X-Amz-Credential`; undefined if unsigned. */
export function signerOf(request: RecordedRequest): Signer | undefined {
  const header = headerOf(request, "authorization");
  const credential =
    /Credential=([^,\s]+)/.exec(header ?? "")?.[1] ??
    new URL(request.url).searchParams.get("X-Amz-Credential") ??
    undefined;
  if (!credential) return undefined;
  const [accessKeyId, , region, service] = credential.split("/");
  if (!accessKeyId || !region || !service) return undefined;
  return { accessKeyId, region, service };
}

export interface MappingOptions {
  /** Account of ARNs built from bare names (a secret given by name); default moto's. */
  readonly accountId?: string;
}

/**
 * The IAM calls a recorded request needs.
 * @throws UnmappedRequestError for an unsigned request, or one of a service, operation or
 *   sub-resource the tables do not know.
 */
export function iamCallsOf(request: RecordedRequest, options: MappingOptions = {}): IamCall[] {
  const signer = signerOf(request);
  if (!signer) throw new UnmappedRequestError(`${describe(request)}: not signed, so no service to map`);
  switch (signer.service) {
    case "s3":
      return s3Calls(request);
    case "secretsmanager":
      return secretsManagerCalls(request, signer.region, options.accountId ?? MOTO_ACCOUNT_ID);
    default:
      throw new UnmappedRequestError(`${describe(request)}: no IAM table for service ${signer.service}`);
  }
}

/** `METHOD path?query` of a request, for messages. */
export function describe(request: RecordedRequest): string {
  const u = new URL(request.url);
  return `${request.method} ${u.pathname}${u.search}`;
}

// ---------------------------------------------------------------------------------------------
// S3 (REST): the operation is the method, whether the path names a bucket or an object, and the
// sub-resource in the query (`?uploads`, `?uploadId`, `?delete`, ...).

type S3Scope = "service" | "bucket" | "object";

export interface S3Operation {
  readonly operation: string;
  readonly method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  readonly scope: S3Scope;
  /** Query parameters that select this operation; all must be present. */
  readonly subresources?: readonly string[];
  /** A header that selects it (`x-amz-copy-source` turns PutObject into CopyObject). */
  readonly selectHeader?: string;
  /** Actions on the target (bucket or object ARN). */
  readonly actions: readonly string[];
  /** Actions instead of `actions` when the request names a `versionId`. */
  readonly versionActions?: readonly string[];
  /** Condition keys taken from query parameters: condition key → query parameter. */
  readonly conditionKeys?: Readonly<Record<string, string>>;
  /** Additionally needs `s3:GetObject` on the copy source (`x-amz-copy-source`). */
  readonly readsCopySource?: boolean;
  /** One `s3:DeleteObject` per key of the XML body (DeleteObjects). */
  readonly deletesBodyKeys?: boolean;
}

/** Condition keys of the list operations that take a prefix (SAR: ListBucket, ListBucketVersions). */
const LIST_KEYS = { "s3:prefix": "prefix", "s3:delimiter": "delimiter", "s3:max-keys": "max-keys" } as const;

/**
 * S3 operations by request shape. Multipart uploads are authorized as `s3:PutObject` (create,
 * upload part, complete); only the abort and the listings have actions of their own. Note that
 * `s3:prefix` is a condition key of ListBucket and ListBucketVersions only: a statement that puts
 * ListBucketMultipartUploads under an `s3:prefix` condition never applies to it.
 */
export const S3_OPERATIONS: readonly S3Operation[] = [
  { operation: "ListBuckets", method: "GET", scope: "service", actions: ["s3:ListAllMyBuckets"] },
  { operation: "CreateBucket", method: "PUT", scope: "bucket", actions: ["s3:CreateBucket"] },
  { operation: "DeleteBucket", method: "DELETE", scope: "bucket", actions: ["s3:DeleteBucket"] },
  { operation: "HeadBucket", method: "HEAD", scope: "bucket", actions: ["s3:ListBucket"] },
  {
    operation: "ListObjects",
    method: "GET",
    scope: "bucket",
    actions: ["s3:ListBucket"],
    conditionKeys: LIST_KEYS,
  },
  {
    operation: "ListObjectsV2",
    method: "GET",
    scope: "bucket",
    subresources: ["list-type"],
    actions: ["s3:ListBucket"],
    conditionKeys: LIST_KEYS,
  },
  {
    operation: "ListObjectVersions",
    method: "GET",
    scope: "bucket",
    subresources: ["versions"],
    actions: ["s3:ListBucketVersions"],
    conditionKeys: LIST_KEYS,
  },
  {
    operation: "ListMultipartUploads",
    method: "GET",
    scope: "bucket",
    subresources: ["uploads"],
    actions: ["s3:ListBucketMultipartUploads"],
  },
  {
    operation: "GetBucketLocation",
    method: "GET",
    scope: "bucket",
    subresources: ["location"],
    actions: ["s3:GetBucketLocation"],
  },
  {
    operation: "DeleteObjects",
    method: "POST",
    scope: "bucket",
    subresources: ["delete"],
    actions: [],
    deletesBodyKeys: true,
  },
  {
    operation: "GetObject",
    method: "GET",
    scope: "object",
    actions: ["s3:GetObject"],
    versionActions: ["s3:GetObjectVersion"],
  },
  {
    operation: "HeadObject",
    method: "HEAD",
    scope: "object",
    actions: ["s3:GetObject"],
    versionActions: ["s3:GetObjectVersion"],
  },
  { operation: "PutObject", method: "PUT", scope: "object", actions: ["s3:PutObject"] },
  {
    operation: "CopyObject",
    method: "PUT",
    scope: "object",
    selectHeader: "x-amz-copy-source",
    actions: ["s3:PutObject"],
    readsCopySource: true,
  },
  {
    operation: "DeleteObject",
    method: "DELETE",
    scope: "object",
    actions: ["s3:DeleteObject"],
    versionActions: ["s3:DeleteObjectVersion"],
  },
  {
    operation: "CreateMultipartUpload",
    method: "POST",
    scope: "object",
    subresources: ["uploads"],
    actions: ["s3:PutObject"],
  },
  {
    operation: "UploadPart",
    method: "PUT",
    scope: "object",
    subresources: ["partNumber", "uploadId"],
    actions: ["s3:PutObject"],
  },
  {
    operation: "UploadPartCopy",
    method: "PUT",
    scope: "object",
    subresources: ["partNumber", "uploadId"],
    selectHeader: "x-amz-copy-source",
    actions: ["s3:PutObject"],
    readsCopySource: true,
  },
  {
    operation: "CompleteMultipartUpload",
    method: "POST",
    scope: "object",
    subresources: ["uploadId"],
    actions: ["s3:PutObject"],
  },
  {
    operation: "AbortMultipartUpload",
    method: "DELETE",
    scope: "object",
    subresources: ["uploadId"],
    actions: ["s3:AbortMultipartUpload"],
  },
  {
    operation: "ListParts",
    method: "GET",
    scope: "object",
    subresources: ["uploadId"],
    actions: ["s3:ListMultipartUploadParts"],
  },
];

/**
 * Query parameters that are arguments, not sub-resources: any other parameter names an operation
 * the table does not know. (`x-id` is the SDK's operation name, checked against the match.)
 */
const S3_ARGUMENTS = new Set([
  "x-id",
  "prefix",
  "delimiter",
  "max-keys",
  "continuation-token",
  "start-after",
  "encoding-type",
  "fetch-owner",
  "marker",
  "key-marker",
  "upload-id-marker",
  "version-id-marker",
  "max-uploads",
  "max-parts",
  "part-number-marker",
  "versionId",
  "partNumber",
  "response-content-type",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-cache-control",
  "response-expires",
]);

function s3Calls(request: RecordedRequest): IamCall[] {
  const url = new URL(request.url);
  const segments = url.pathname.split("/");
  // Path-style (the lake's client against moto): /<bucket>/<key>; the key keeps its slashes.
  const bucket = segments[1] ? decodeURIComponent(segments[1]) : "";
  const key = segments.slice(2).map(decodeURIComponent).join("/");
  const scope: S3Scope = bucket === "" ? "service" : key === "" ? "bucket" : "object";
  const params = url.searchParams;
  const copySource = headerOf(request, "x-amz-copy-source");

  const candidates = S3_OPERATIONS.filter(
    (op) =>
      op.method === request.method &&
      op.scope === scope &&
      (op.subresources ?? []).every((p) => params.has(p)) &&
      (op.selectHeader === undefined || headerOf(request, op.selectHeader) !== undefined),
  );
  const weight = (op: S3Operation) => (op.subresources?.length ?? 0) + (op.selectHeader ? 1 : 0);
  const op = candidates.sort((a, b) => weight(b) - weight(a))[0];
  if (!op) throw new UnmappedRequestError(`${describe(request)}: no S3 operation of this shape`);
  if (op.selectHeader === undefined && copySource !== undefined)
    throw new UnmappedRequestError(`${describe(request)}: x-amz-copy-source on ${op.operation}`);
  for (const name of params.keys()) {
    if (!S3_ARGUMENTS.has(name) && !(op.subresources ?? []).includes(name))
      throw new UnmappedRequestError(`${describe(request)}: unknown sub-resource ?${name}`);
  }
  const xId = params.get("x-id");
  if (xId !== null && xId !== op.operation)
    throw new UnmappedRequestError(`${describe(request)}: the SDK says ${xId}, the table ${op.operation}`);

  const target = scope === "service" ? "*" : s3Arn(bucket, scope === "object" ? key : undefined);
  const context: Record<string, string> = {};
  for (const [conditionKey, param] of Object.entries(op.conditionKeys ?? {})) {
    const value = params.get(param);
    if (value !== null) context[conditionKey] = value;
  }
  const actions = params.has("versionId") && op.versionActions ? op.versionActions : op.actions;
  const calls: IamCall[] = actions.map((action) => ({
    operation: op.operation,
    action,
    resource: target,
    context,
  }));
  if (op.readsCopySource && copySource !== undefined) {
    const source = copySourceOf(copySource);
    calls.push({
      operation: op.operation,
      action: source.versionId ? "s3:GetObjectVersion" : "s3:GetObject",
      resource: s3Arn(source.bucket, source.key),
      context: {},
    });
  }
  if (op.deletesBodyKeys) {
    for (const object of deleteObjectsOf(request)) {
      calls.push({
        operation: op.operation,
        action: object.versionId ? "s3:DeleteObjectVersion" : "s3:DeleteObject",
        resource: s3Arn(bucket, object.key),
        context: {},
      });
    }
  }
  return calls;
}

export function s3Arn(bucket: string, key?: string): string {
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=...]`, the key percent-encoded. */
function copySourceOf(header: string): { bucket: string; key: string; versionId?: string } {
  const [path = "", query = ""] = header.replace(/^\//, "").split("?");
  const slash = path.indexOf("/");
  if (slash <= 0) throw new UnmappedRequestError(`x-amz-copy-source ${header}: no bucket/key`);
  const versionId = new URLSearchParams(query).get("versionId") ?? undefined;
  return {
    bucket: decodeURIComponent(path.slice(0, slash)),
    key: decodeURIComponent(path.slice(slash + 1)),
    versionId,
  };
}

/** The objects of a DeleteObjects body (`<Delete><Object><Key>..</Key></Object>..</Delete>`). */
function deleteObjectsOf(request: RecordedRequest): { key: string; versionId?: string }[] {
  const xml = request.body.toString("utf8");
  const objects = [...xml.matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map((m) => {
    const inner = m[1] ?? "";
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(inner)?.[1];
    if (key === undefined) throw new UnmappedRequestError(`${describe(request)}: an <Object> without <Key>`);
    const versionId = /<VersionId>([\s\S]*?)<\/VersionId>/.exec(inner)?.[1];
    return { key: xmlText(key), versionId: versionId === undefined ? undefined : xmlText(versionId) };
  });
  if (objects.length === 0)
    throw new UnmappedRequestError(`${describe(request)}: DeleteObjects without a readable body`);
  return objects;
}

function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[e] ?? "";
  });
}

// ---------------------------------------------------------------------------------------------
// Secrets Manager (JSON 1.1): the operation is `X-Amz-Target: secretsmanager.<Operation>`, the
// secret is a field of the JSON body.

export interface SecretsManagerOperation {
  readonly action: string;
  /** The body field naming the secret; null for actions on no resource (`*`). */
  readonly secretField: "SecretId" | "Name" | null;
}

export const SECRETS_MANAGER_OPERATIONS: Readonly<Record<string, SecretsManagerOperation>> = {
  GetSecretValue: { action: "secretsmanager:GetSecretValue", secretField: "SecretId" },
  DescribeSecret: { action: "secretsmanager:DescribeSecret", secretField: "SecretId" },
  PutSecretValue: { action: "secretsmanager:PutSecretValue", secretField: "SecretId" },
  UpdateSecret: { action: "secretsmanager:UpdateSecret", secretField: "SecretId" },
  DeleteSecret: { action: "secretsmanager:DeleteSecret", secretField: "SecretId" },
  RestoreSecret: { action: "secretsmanager:RestoreSecret", secretField: "SecretId" },
  RotateSecret: { action: "secretsmanager:RotateSecret", secretField: "SecretId" },
  ListSecretVersionIds: { action: "secretsmanager:ListSecretVersionIds", secretField: "SecretId" },
  GetResourcePolicy: { action: "secretsmanager:GetResourcePolicy", secretField: "SecretId" },
  TagResource: { action: "secretsmanager:TagResource", secretField: "SecretId" },
  UntagResource: { action: "secretsmanager:UntagResource", secretField: "SecretId" },
  CreateSecret: { action: "secretsmanager:CreateSecret", secretField: "Name" },
  ListSecrets: { action: "secretsmanager:ListSecrets", secretField: null },
  GetRandomPassword: { action: "secretsmanager:GetRandomPassword", secretField: null },
};

/** A secret's ARN: as given when the caller used one, else built from the name. */
export function secretArn(idOrArn: string, region: string, accountId: string = MOTO_ACCOUNT_ID): string {
  return idOrArn.startsWith("arn:")
    ? idOrArn
    : `arn:aws:secretsmanager:${region}:${accountId}:secret:${idOrArn}`;
}

function secretsManagerCalls(request: RecordedRequest, region: string, accountId: string): IamCall[] {
  const target = headerOf(request, "x-amz-target") ?? "";
  const match = /^secretsmanager\.(\w+)$/.exec(target);
  if (!match?.[1])
    throw new UnmappedRequestError(`${describe(request)}: X-Amz-Target ${target || "missing"}`);
  const operation = match[1];
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(request.body.toString("utf8") || "{}") as Record<string, unknown>;
  } catch {
    throw new UnmappedRequestError(`${operation}: the recorded body is not JSON`);
  }
  const secret = (field: string): string => {
    const value = body[field];
    if (typeof value !== "string" || value === "")
      throw new UnmappedRequestError(`${operation}: no ${field} in the recorded body`);
    return secretArn(value, region, accountId);
  };
  if (operation === "BatchGetSecretValue") {
    // Needs the batch action (no resource) and GetSecretValue on each secret; a filter would
    // name secrets only the server knows, so it is refused here.
    const ids = body.SecretIdList;
    if (!Array.isArray(ids) || body.Filters !== undefined)
      throw new UnmappedRequestError(`${operation}: only SecretIdList is mapped`);
    return [
      { operation, action: "secretsmanager:BatchGetSecretValue", resource: "*", context: {} },
      ...ids.map((id) => ({
        operation,
        action: "secretsmanager:GetSecretValue",
        resource: secretArn(String(id), region, accountId),
        context: {},
      })),
    ];
  }
  const op = SECRETS_MANAGER_OPERATIONS[operation];
  if (!op)
    throw new UnmappedRequestError(`${describe(request)}: no table entry for secretsmanager.${operation}`);
  return [
    {
      operation,
      action: op.action,
      resource: op.secretField === null ? "*" : secret(op.secretField),
      context: {},
    },
  ];
}
