/**
 * The two tables behind tests/integration/iam-calls.test.ts: recorded AWS requests → IAM calls
 * (tests/support/aws-actions.ts), and the policy evaluator (tests/support/iam-eval.ts).
 */
import { describe, expect, it } from "vitest";
import {
  type IamCall,
  iamCallsOf,
  parseRecording,
  type RecordedRequest,
  signerOf,
  UnmappedRequestError,
} from "../support/aws-actions.js";
import {
  type AuthzRequest,
  bucketPolicies,
  evaluate,
  functionAccess,
  matchesAction,
  matchesArn,
  parsePolicy,
  UnsupportedPolicyError,
  withoutStatements,
} from "../support/iam-eval.js";

const ENDPOINT = "http://127.0.0.1:45050";

function signed(service: string, headers: Record<string, string> = {}): Record<string, string> {
  return {
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/eu-west-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    ...headers,
  };
}

function s3(method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}) {
  return {
    method,
    url: `${ENDPOINT}${path}`,
    headers: signed("s3", options.headers),
    body: Buffer.from(options.body ?? ""),
  } satisfies RecordedRequest;
}

function secrets(operation: string, body: unknown): RecordedRequest {
  return {
    method: "POST",
    url: `${ENDPOINT}/`,
    headers: signed("secretsmanager", { "X-Amz-Target": `secretsmanager.${operation}` }),
    body: Buffer.from(JSON.stringify(body)),
  };
}

const short = (calls: IamCall[]) =>
  calls.map((c) => [
    c.operation,
    c.action,
    c.resource,
    ...(Object.keys(c.context).length ? [c.context] : []),
  ]);

const B = "arn:aws:s3:::lake";
const UPLOAD = "uploadId=abc";

describe("iamCallsOf: S3 requests as the SDK sends them (path-style)", () => {
  it.each([
    ["GET", "/lake/raw/a%20b.parquet?x-id=GetObject", "GetObject", "s3:GetObject", `${B}/raw/a b.parquet`],
    ["GET", "/lake/raw/a?versionId=v1&x-id=GetObject", "GetObject", "s3:GetObjectVersion", `${B}/raw/a`],
    ["HEAD", "/lake/raw/a", "HeadObject", "s3:GetObject", `${B}/raw/a`],
    [
      "PUT",
      "/lake/_quarantine/x/y.json?x-id=PutObject",
      "PutObject",
      "s3:PutObject",
      `${B}/_quarantine/x/y.json`,
    ],
    ["DELETE", "/lake/raw/a?x-id=DeleteObject", "DeleteObject", "s3:DeleteObject", `${B}/raw/a`],
    ["POST", "/lake/raw/a?uploads=", "CreateMultipartUpload", "s3:PutObject", `${B}/raw/a`],
    ["PUT", `/lake/raw/a?partNumber=1&${UPLOAD}&x-id=UploadPart`, "UploadPart", "s3:PutObject", `${B}/raw/a`],
    ["POST", `/lake/raw/a?${UPLOAD}`, "CompleteMultipartUpload", "s3:PutObject", `${B}/raw/a`],
    [
      "DELETE",
      `/lake/raw/a?${UPLOAD}&x-id=AbortMultipartUpload`,
      "AbortMultipartUpload",
      "s3:AbortMultipartUpload",
      `${B}/raw/a`,
    ],
    ["GET", `/lake/raw/a?${UPLOAD}&x-id=ListParts`, "ListParts", "s3:ListMultipartUploadParts", `${B}/raw/a`],
    ["GET", "/lake/?prefix=events%2F&uploads=", "ListMultipartUploads", "s3:ListBucketMultipartUploads", B],
    ["GET", "/lake/?location=", "GetBucketLocation", "s3:GetBucketLocation", B],
    ["HEAD", "/lake/", "HeadBucket", "s3:ListBucket", B],
    ["GET", "/", "ListBuckets", "s3:ListAllMyBuckets", "*"],
  ])("%s %s is %s → %s on %s", (method, path, operation, action, resource) => {
    expect(short(iamCallsOf(s3(method, path)))).toEqual([[operation, action, resource]]);
  });

  it("ListObjectsV2 is s3:ListBucket on the bucket, with the prefix as s3:prefix", () => {
    expect(short(iamCallsOf(s3("GET", "/lake/?list-type=2&prefix=_quarantine%2F&delimiter=%2F")))).toEqual([
      ["ListObjectsV2", "s3:ListBucket", B, { "s3:prefix": "_quarantine/", "s3:delimiter": "/" }],
    ]);
    // No prefix parameter: the key is absent (not ""), so a prefix condition does not apply.
    expect(iamCallsOf(s3("GET", "/lake/?list-type=2"))[0]?.context).toEqual({});
  });

  it("ListMultipartUploads carries no s3:prefix: it is not one of that action's condition keys", () => {
    expect(iamCallsOf(s3("GET", "/lake/?prefix=events%2F&uploads="))[0]?.context).toEqual({});
  });

  it("CopyObject writes the target and reads the source", () => {
    const copy = s3("PUT", "/lake/b?x-id=CopyObject", { headers: { "X-Amz-Copy-Source": "src/a%20b" } });
    expect(short(iamCallsOf(copy))).toEqual([
      ["CopyObject", "s3:PutObject", `${B}/b`],
      ["CopyObject", "s3:GetObject", "arn:aws:s3:::src/a b"],
    ]);
  });

  it("DeleteObjects is one s3:DeleteObject per key of its body", () => {
    const body =
      '<?xml version="1.0"?><Delete><Object><Key>a/1</Key></Object>' +
      "<Object><Key>a&amp;b&lt;c&gt;</Key><VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>";
    expect(short(iamCallsOf(s3("POST", "/lake/?delete=", { body })))).toEqual([
      ["DeleteObjects", "s3:DeleteObject", `${B}/a/1`],
      ["DeleteObjects", "s3:DeleteObjectVersion", `${B}/a&b<c>`],
    ]);
    expect(() => iamCallsOf(s3("POST", "/lake/?delete="))).toThrow(UnmappedRequestError);
  });

  it.each([
    ["an unknown sub-resource", "GET", "/lake/raw/a?tagging="],
    ["an operation the table lacks", "PUT", "/lake/?policy="],
    ["the SDK's name disagreeing with the table", "GET", "/lake/raw/a?x-id=GetObjectTagging"],
  ])("refuses %s", (_, method, path) => {
    expect(() => iamCallsOf(s3(method, path))).toThrow(UnmappedRequestError);
  });
});

describe("iamCallsOf: Secrets Manager and other services", () => {
  it("maps GetSecretValue to the secret's ARN, built from a name or taken as given", () => {
    expect(short(iamCallsOf(secrets("GetSecretValue", { SecretId: "lakehouse/ddc" })))).toEqual([
      [
        "GetSecretValue",
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lakehouse/ddc",
      ],
    ]);
    const arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-x-AbCdEf";
    expect(iamCallsOf(secrets("GetSecretValue", { SecretId: arn }))[0]?.resource).toBe(arn);
  });

  it("maps BatchGetSecretValue to the batch action and a GetSecretValue per secret", () => {
    expect(short(iamCallsOf(secrets("BatchGetSecretValue", { SecretIdList: ["a", "b"] })))).toEqual([
      ["BatchGetSecretValue", "secretsmanager:BatchGetSecretValue", "*"],
      [
        "BatchGetSecretValue",
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a",
      ],
      [
        "BatchGetSecretValue",
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:b",
      ],
    ]);
  });

  it.each([
    ["an unknown operation", secrets("ReplicateSecretToRegions", { SecretId: "a" })],
    ["a body without the secret", secrets("GetSecretValue", {})],
    ["a service without a table", { ...secrets("GetSecretValue", {}), headers: signed("kms") }],
    ["an unsigned request", { method: "GET", url: `${ENDPOINT}/lake/a`, headers: {}, body: Buffer.alloc(0) }],
  ])("refuses %s", (_, request) => {
    expect(() => iamCallsOf(request)).toThrow(UnmappedRequestError);
  });

  it("reads the signer from the credential scope", () => {
    expect(signerOf(s3("GET", "/lake/a"))).toEqual({
      accessKeyId: "AKIATEST",
      region: "eu-west-1",
      service: "s3",
    });
  });
});

describe("parseRecording", () => {
  it("splits entries by nesting: two may share a line, strings may hold braces", () => {
    const entry = (url: string, body: string) =>
      JSON.stringify({ method: "PUT", url, headers: { A: "}{" }, body, body_encoded: true });
    const text = `${entry("u1", Buffer.from("x").toString("base64"))}${entry("u2", "")}\n\n${entry("u3", "")}\n`;
    const requests = parseRecording(text);
    expect(requests.map((r) => r.url)).toEqual(["u1", "u2", "u3"]);
    expect(requests[0]?.body.toString()).toBe("x");
    expect(requests[1]?.body.length).toBe(0);
  });

  it.each([
    ["{", "truncated"],
    ['{"a":1} x', "outside an entry"],
  ])("refuses %j", (text, message) => {
    expect(() => parseRecording(text)).toThrow(message);
  });
});

describe("matching", () => {
  it.each([
    ["s3:GetObject", "s3:GetObject", true],
    ["s3:getobject", "s3:GetObject", true],
    ["s3:Get*", "s3:GetObject", true],
    ["s3:*", "s3:PutObject", true],
    ["*", "secretsmanager:GetSecretValue", true],
    ["s3:Get?bject", "s3:GetObject", true],
    ["s3:Get*", "s3:PutObject", false],
    ["s3:GetObject", "s3:GetObjectVersion", false],
  ])("action pattern %s vs %s: %s", (pattern, action, expected) => {
    expect(matchesAction(pattern, action)).toBe(expected);
  });

  it.each([
    ["arn:aws:s3:::lake/*", "arn:aws:s3:::lake/raw/a.parquet", true],
    ["arn:aws:s3:::lake/_quarantine/*", "arn:aws:s3:::lake/_quarantine/x/y.json", true],
    ["arn:aws:s3:::lake/_quarantine/*", "arn:aws:s3:::lake/raw/a", false],
    ["arn:aws:s3:::lake/*", "arn:aws:s3:::lake", false],
    ["arn:aws:s3:::lake", "arn:aws:s3:::lake/a", false],
    ["arn:aws:s3:::lake/*", "arn:aws:s3:::lake-other/a", false],
    ["arn:aws:s3:::lake?", "arn:aws:s3:::lake1", true],
    ["arn:aws:s3:::LAKE/*", "arn:aws:s3:::lake/a", false],
    [
      "arn:aws:secretsmanager:*:*:secret:ddc-??????",
      "arn:aws:secretsmanager:eu-west-1:1:secret:ddc-AbCdEf",
      true,
    ],
    [
      "arn:aws:secretsmanager:eu-west-1:*:secret:ddc-*",
      "arn:aws:secretsmanager:us-east-1:1:secret:ddc-x",
      false,
    ],
    ["arn:aws:logs:eu-west-1:1:log-group:/f:*", "arn:aws:logs:eu-west-1:1:log-group:/f:log-stream:s", true],
    ["*", "arn:aws:s3:::anything", true],
  ])("resource pattern %s vs %s: %s", (pattern, arn, expected) => {
    expect(matchesArn(pattern, arn)).toBe(expected);
  });
});

const doc = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const put = (key: string): AuthzRequest => ({
  action: "s3:PutObject",
  resource: `arn:aws:s3:::lake/${key}`,
  context: { "aws:SecureTransport": "true" },
});
const list = (prefix?: string): AuthzRequest => ({
  action: "s3:ListBucket",
  resource: "arn:aws:s3:::lake",
  context: prefix === undefined ? {} : { "s3:prefix": prefix },
});

describe("evaluate", () => {
  const raw = parsePolicy(
    "raw",
    doc(
      {
        Sid: "Quarantine",
        Effect: "Allow",
        Action: ["s3:PutObject"],
        Resource: ["arn:aws:s3:::lake/_quarantine/*"],
      },
      {
        Sid: "ListQuarantine",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::lake",
        Condition: { StringLike: { "s3:prefix": ["_quarantine/*"] } },
      },
    ),
  );

  it("allows what a statement grants and names the statement", () => {
    const decision = evaluate(put("_quarantine/events/no-device/x.json"), [raw]);
    expect(decision.effect).toBe("allow");
    expect(decision.statements.map((s) => s.id)).toEqual(["raw#Quarantine"]);
  });

  it("denies implicitly outside the granted resources", () => {
    expect(evaluate(put("events/idDevice=1/0.parquet"), [raw])).toEqual({
      effect: "implicit-deny",
      statements: [],
    });
  });

  it("catches a missing grant: the same policy minus its statement denies the write", () => {
    const without = withoutStatements(raw, (s) => s.json.Sid === "Quarantine");
    expect(evaluate(put("_quarantine/events/no-device/x.json"), [without]).effect).toBe("implicit-deny");
  });

  it.each([
    ["_quarantine/", "allow"],
    ["_quarantine/events/", "allow"],
    ["events/", "implicit-deny"],
    ["", "implicit-deny"],
    [undefined, "implicit-deny"],
  ] as const)("a prefix condition on s3:prefix %j: %s", (prefix, effect) => {
    expect(evaluate(list(prefix), [raw]).effect).toBe(effect);
  });

  it("lets an explicit Deny win, in the identity or a resource policy", () => {
    const deny = parsePolicy(
      "deny",
      doc({ Effect: "Deny", Action: "s3:*", Resource: "arn:aws:s3:::lake/_quarantine/secret/*" }),
    );
    expect(evaluate(put("_quarantine/secret/x"), [raw, deny]).effect).toBe("explicit-deny");
    const bucket = parsePolicy(
      "bucket",
      doc({
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:*"],
        Resource: ["arn:aws:s3:::lake", "arn:aws:s3:::lake/*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
    expect(evaluate(put("_quarantine/x"), [raw], [bucket]).effect).toBe("allow");
    const plain = { ...put("_quarantine/x"), context: { "aws:SecureTransport": "false" } };
    expect(evaluate(plain, [raw], [bucket]).effect).toBe("explicit-deny");
  });

  it("ignores Allow statements of resource policies: grants must come from the role", () => {
    const bucket = parsePolicy(
      "bucket",
      doc({ Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "*" }),
    );
    expect(evaluate(put("events/x"), [raw], [bucket]).effect).toBe("implicit-deny");
  });

  it.each([
    ["StringNotLike", { "s3:prefix": "tmp/*" }, list(undefined), true],
    ["StringNotLike", { "s3:prefix": "tmp/*" }, list("tmp/a"), false],
    ["StringEqualsIfExists", { "s3:prefix": "a/" }, list(undefined), true],
    ["StringEqualsIfExists", { "s3:prefix": "a/" }, list("b/"), false],
    ["StringEquals", { "s3:prefix": ["", "a/"] }, list(""), true],
    ["StringEqualsIgnoreCase", { "S3:Prefix": "A/" }, list("a/"), true],
    ["Null", { "s3:prefix": "true" }, list(undefined), true],
    ["Null", { "s3:prefix": "false" }, list(undefined), false],
  ] as const)("%s %j on %j applies: %s", (operator, keys, request, applies) => {
    const policy = parsePolicy(
      "p",
      doc({ Effect: "Allow", Action: "s3:ListBucket", Resource: "*", Condition: { [operator]: keys } }),
    );
    expect(evaluate(request, [policy]).effect).toBe(applies ? "allow" : "implicit-deny");
  });

  it("reads NotAction and NotResource", () => {
    const policy = parsePolicy(
      "p",
      doc({ Effect: "Allow", NotAction: "s3:DeleteObject", NotResource: "arn:aws:s3:::lake/keep/*" }),
    );
    expect(evaluate(put("a"), [policy]).effect).toBe("allow");
    expect(evaluate(put("keep/a"), [policy]).effect).toBe("implicit-deny");
    expect(evaluate({ ...put("a"), action: "s3:DeleteObject" }, [policy]).effect).toBe("implicit-deny");
  });

  it.each([
    [
      "an unknown operator",
      { Effect: "Allow", Action: "s3:*", Resource: "*", Condition: { DateLessThan: { a: "1" } } },
    ],
    [
      "a set operator",
      { Effect: "Allow", Action: "s3:*", Resource: "*", Condition: { "ForAnyValue:StringLike": { a: "1" } } },
    ],
    [
      "a policy variable",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template.
      { Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::lake/${aws:username}/*" },
    ],
    ["no Action", { Effect: "Allow", Resource: "*" }],
  ])("refuses to read %s", (_, statement) => {
    expect(() => parsePolicy("p", doc(statement))).toThrow(UnsupportedPolicyError);
  });

  it("refuses a resource policy Deny for specific principals", () => {
    const bucket = parsePolicy(
      "bucket",
      doc({ Effect: "Deny", Principal: { AWS: "arn:aws:iam::1:role/x" }, Action: "s3:*", Resource: "*" }),
    );
    expect(() => evaluate(put("a"), [raw], [bucket])).toThrow(UnsupportedPolicyError);
  });
});

describe("functionAccess and bucketPolicies: the program's graph", () => {
  const policy = doc({
    Sid: "Secrets",
    Effect: "Allow",
    Action: "secretsmanager:GetSecretValue",
    Resource: "*",
  });
  const graph = [
    { type: "aws:iam/role:Role", name: "ingest-plan", id: "ingest-plan-id", inputs: {} },
    { type: "aws:iam/role:Role", name: "ingest-plan-extra", id: "ingest-plan-extra-id", inputs: {} },
    {
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "ingest-plan",
      id: "p1",
      inputs: { role: "ingest-plan-id", policy },
    },
    {
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "other",
      id: "p2",
      inputs: { role: "ingest-plan-extra-id", policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) },
    },
    {
      type: "aws:lambda/function:Function",
      name: "ingest-plan",
      id: "f1",
      inputs: { role: "arn:aws:iam:eu-west-1:123456789012:ingest-plan" },
    },
    {
      type: "aws:s3/bucketPolicy:BucketPolicy",
      name: "lake-raw",
      id: "bp",
      inputs: {
        bucket: "lake-raw-id",
        policy: doc({
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: ["arn:aws:s3:::raw-1", "arn:aws:s3:::raw-1/*"],
        }),
      },
    },
  ];

  it("links function → role (by its ARN) → inline policies (by the role's id)", () => {
    const access = functionAccess(graph, "ingest-plan");
    expect(access.role.name).toBe("ingest-plan");
    expect(access.policies.map((p) => p.statements.map((s) => s.id))).toEqual([["ingest-plan#Secrets"]]);
  });

  it("refuses a role whose managed policies it cannot read", () => {
    const attached = [
      ...graph,
      {
        type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        name: "a",
        id: "a",
        inputs: { role: "ingest-plan-id", policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" },
      },
    ];
    expect(() => functionAccess(attached, "ingest-plan")).toThrow(UnsupportedPolicyError);
  });

  it("finds a bucket's policy by the ARNs it names", () => {
    expect(bucketPolicies(graph, "raw-1").map((p) => p.name)).toEqual(["lake-raw"]);
    expect(bucketPolicies(graph, "raw")).toEqual([]);
  });
});
