/**
 * A small IAM policy evaluator, enough to decide whether a role's inline policies allow the calls
 * its function makes: action and resource matching with IAM wildcards, `NotAction` /
 * `NotResource`, the string, ARN, Bool and Null condition operators (with `...IfExists`), and
 * explicit Deny over Allow over the implicit deny. Anything it does not model (policy variables,
 * other operators, set operators, principals other than `*` in a resource policy) throws, so a
 * policy it cannot read never passes as allowed.
 *
 * Resource policies (a bucket's) are read for their Deny statements only: grants in this project
 * come from the roles, so an Allow in a resource policy is ignored and cannot hide a missing one.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 */
import type { Recorded } from "../infra/harness.js";

/** A statement as written in a policy document (single values or lists). */
export interface StatementJson {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyStatement {
  /** `policy#Sid` (or `policy#<index>`), for messages. */
  readonly id: string;
  readonly effect: "Allow" | "Deny";
  readonly actions: { readonly not: boolean; readonly patterns: readonly string[] };
  readonly resources: { readonly not: boolean; readonly patterns: readonly string[] };
  readonly conditions: readonly Condition[];
  readonly json: StatementJson;
}

interface Condition {
  readonly operator: string;
  readonly key: string;
  readonly values: readonly string[];
}

export interface Policy {
  readonly name: string;
  readonly statements: readonly PolicyStatement[];
}

/** One authorization request: an action on a resource, with the request's condition keys. */
export interface AuthzRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string>>;
}

export type Effect = "allow" | "explicit-deny" | "implicit-deny";

export interface Decision {
  readonly effect: Effect;
  /** The statements that decided: the Deny statements, or the Allow ones (empty: implicit deny). */
  readonly statements: readonly PolicyStatement[];
}

/** A policy this evaluator cannot read faithfully. */
export class UnsupportedPolicyError extends Error {
  override readonly name = "UnsupportedPolicyError";
}

const list = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === "string" ? [v] : v;

/** Parse a policy document (the JSON string IAM takes). */
export function parsePolicy(name: string, document: string): Policy {
  const json = JSON.parse(document) as { Statement?: StatementJson | readonly StatementJson[] };
  const raw =
    json.Statement === undefined ? [] : Array.isArray(json.Statement) ? json.Statement : [json.Statement];
  return { name, statements: (raw as readonly StatementJson[]).map((s, i) => parseStatement(name, s, i)) };
}

function parseStatement(policy: string, s: StatementJson, index: number): PolicyStatement {
  const id = `${policy}#${s.Sid ?? index}`;
  if (s.Effect !== "Allow" && s.Effect !== "Deny")
    throw new UnsupportedPolicyError(`${id}: Effect ${s.Effect}`);
  if ((s.Action === undefined) === (s.NotAction === undefined))
    throw new UnsupportedPolicyError(`${id}: needs exactly one of Action and NotAction`);
  if ((s.Resource === undefined) === (s.NotResource === undefined))
    throw new UnsupportedPolicyError(`${id}: needs exactly one of Resource and NotResource`);
  const actions = { not: s.NotAction !== undefined, patterns: list(s.NotAction ?? s.Action) };
  const resources = { not: s.NotResource !== undefined, patterns: list(s.NotResource ?? s.Resource) };
  for (const p of [...actions.patterns, ...resources.patterns])
    if (p.includes("${")) throw new UnsupportedPolicyError(`${id}: policy variable in ${p}`);
  const conditions: Condition[] = [];
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    if (!OPERATORS.has(baseOperator(operator)))
      throw new UnsupportedPolicyError(`${id}: condition operator ${operator}`);
    for (const [key, values] of Object.entries(keys)) {
      const vs = list(values).map(String);
      for (const v of vs)
        if (v.includes("${")) throw new UnsupportedPolicyError(`${id}: policy variable in ${v}`);
      conditions.push({ operator, key, values: vs });
    }
  }
  return { id, effect: s.Effect, actions, resources, conditions, json: s };
}

/** A policy without some of its statements (to show what a missing grant looks like). */
export function withoutStatements(policy: Policy, drop: (s: PolicyStatement) => boolean): Policy {
  return { name: policy.name, statements: policy.statements.filter((s) => !drop(s)) };
}

// --- matching -----------------------------------------------------------------------------------

function glob(pattern: string, flags = ""): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, `s${flags}`);
}

/** `service:Action` against a pattern with `*` and `?`; action names are case-insensitive in IAM. */
export function matchesAction(pattern: string, action: string): boolean {
  return pattern === "*" || glob(pattern, "i").test(action);
}

/**
 * An ARN against a pattern: the partition, service, region and account segments each match on
 * their own, the resource part (everything after the fifth colon) as a whole, so a `*` there may
 * span `/` and `:` as IAM's does. Case-sensitive.
 */
export function matchesArn(pattern: string, arn: string): boolean {
  if (pattern === "*") return true;
  if (arn === "*") return false;
  const p = splitArn(pattern);
  const a = splitArn(arn);
  if (!p || !a) return glob(pattern).test(arn);
  return p.every((segment, i) => glob(segment).test(a[i] ?? ""));
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn") return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}

// --- conditions ---------------------------------------------------------------------------------

const OPERATORS = new Set([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "Bool",
  "Null",
]);

const NEGATED = new Set([
  "StringNotEquals",
  "StringNotEqualsIgnoreCase",
  "StringNotLike",
  "ArnNotEquals",
  "ArnNotLike",
]);

function baseOperator(operator: string): string {
  if (operator.startsWith("ForAnyValue:") || operator.startsWith("ForAllValues:"))
    throw new UnsupportedPolicyError(`set operator ${operator}: the evaluator knows single-valued keys only`);
  return operator.endsWith("IfExists") && operator !== "Null"
    ? operator.slice(0, -"IfExists".length)
    : operator;
}

function valueMatches(operator: string, pattern: string, value: string): boolean {
  switch (operator) {
    case "StringEquals":
    case "StringNotEquals":
    case "ArnEquals":
    case "ArnNotEquals":
      return pattern === value;
    case "StringEqualsIgnoreCase":
    case "StringNotEqualsIgnoreCase":
      return pattern.toLowerCase() === value.toLowerCase();
    case "StringLike":
    case "StringNotLike":
      return glob(pattern).test(value);
    case "ArnLike":
    case "ArnNotLike":
      return matchesArn(pattern, value);
    case "Bool":
      return pattern.toLowerCase() === value.toLowerCase();
    default:
      throw new UnsupportedPolicyError(`condition operator ${operator}`);
  }
}

/** Condition keys are case-insensitive; their values are not. */
function contextValue(context: Readonly<Record<string, string>>, key: string): string | undefined {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/**
 * One condition against the request. A key the request lacks makes the condition false, except
 * under a negated operator (StringNotLike...), `...IfExists`, or `Null: true`.
 */
function conditionHolds(c: Condition, context: Readonly<Record<string, string>>): boolean {
  const value = contextValue(context, c.key);
  if (c.operator === "Null") {
    const wantsAbsent = c.values.some((v) => v.toLowerCase() === "true");
    return wantsAbsent === (value === undefined);
  }
  const ifExists = c.operator.endsWith("IfExists");
  const operator = baseOperator(c.operator);
  const negated = NEGATED.has(operator);
  if (value === undefined) return ifExists || negated;
  const any = c.values.some((pattern) => valueMatches(operator, pattern, value));
  return negated ? !any : any;
}

/** Whether a statement applies to the request (Effect aside). */
export function statementApplies(s: PolicyStatement, request: AuthzRequest): boolean {
  const action = s.actions.patterns.some((p) => matchesAction(p, request.action));
  if (action === s.actions.not) return false;
  const resource = s.resources.patterns.some((p) => matchesArn(p, request.resource));
  if (resource === s.resources.not) return false;
  return s.conditions.every((c) => conditionHolds(c, request.context));
}

function everyone(principal: unknown): boolean {
  if (principal === "*") return true;
  if (typeof principal === "object" && principal !== null) {
    const aws = (principal as { AWS?: unknown }).AWS;
    return aws === "*" || (Array.isArray(aws) && aws.includes("*"));
  }
  return false;
}

/**
 * The decision for one request: an applicable Deny (identity or resource policy) wins; else an
 * applicable Allow of an identity policy allows; else the implicit deny.
 */
export function evaluate(
  request: AuthzRequest,
  identity: readonly Policy[],
  resourcePolicies: readonly Policy[] = [],
): Decision {
  const resourceDenies = resourcePolicies.flatMap((p) =>
    p.statements.filter((s) => {
      if (s.effect !== "Deny") return false;
      if (s.json.NotPrincipal !== undefined || !everyone(s.json.Principal))
        throw new UnsupportedPolicyError(`${s.id}: only Deny statements for Principal "*" are evaluated`);
      return true;
    }),
  );
  const identityStatements = identity.flatMap((p) => p.statements);
  const denies = [...identityStatements, ...resourceDenies].filter(
    (s) => s.effect === "Deny" && statementApplies(s, request),
  );
  if (denies.length) return { effect: "explicit-deny", statements: denies };
  const allows = identityStatements.filter((s) => s.effect === "Allow" && statementApplies(s, request));
  return allows.length
    ? { effect: "allow", statements: allows }
    : { effect: "implicit-deny", statements: [] };
}

// --- the Pulumi program's graph ----------------------------------------------------------------

const FUNCTION = "aws:lambda/function:Function";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";

/** What the program declares for one function: its inputs, its role and the role's policies. */
export interface FunctionAccess {
  readonly function: Recorded;
  readonly role: Recorded;
  readonly policies: readonly Policy[];
}

/**
 * A function's role and inline policies, linked through the recorded inputs: the function's
 * `role` input is its role's ARN (under the mocks, `arn:aws:iam:<region>:<account>:<name>`; in
 * AWS `...:role/<name>`), and each RolePolicy's `role` input is the role's id. A role with managed
 * policies, attachments or a permissions boundary throws: their content is not in the graph.
 */
export function functionAccess(resources: readonly Recorded[], functionName: string): FunctionAccess {
  const fns = resources.filter((r) => r.type === FUNCTION && r.name === functionName);
  const fn = fns[0];
  if (!fn || fns.length !== 1)
    throw new Error(`expected one ${FUNCTION} named ${functionName}, found ${fns.length}`);
  const roleArn = String(fn.inputs.role ?? "");
  const roleName = roleArn.split(/[:/]/).at(-1);
  const roles = resources.filter((r) => r.type === ROLE && r.name === roleName);
  const role = roles[0];
  if (!role || roles.length !== 1)
    throw new Error(`${functionName}: role ${roleArn} matches ${roles.length} ${ROLE} resources`);
  const linked = (r: Recorded) => r.inputs.role === role.id || r.inputs.role === role.name;
  if (
    resources.some((r) => r.type === ROLE_POLICY_ATTACHMENT && linked(r)) ||
    role.inputs.managedPolicyArns?.length
  )
    throw new UnsupportedPolicyError(
      `${functionName}: managed policies are attached; their content is not evaluated`,
    );
  if (role.inputs.permissionsBoundary)
    throw new UnsupportedPolicyError(`${functionName}: a permissions boundary is not evaluated`);
  const inline = (role.inputs.inlinePolicies ?? []) as { name?: string; policy?: string }[];
  const policies = [
    ...resources
      .filter((r) => r.type === ROLE_POLICY && linked(r))
      .map((r) => parsePolicy(r.name, String(r.inputs.policy))),
    ...inline
      .filter((p) => p.policy)
      .map((p, i) => parsePolicy(p.name ?? `${role.name}-inline-${i}`, String(p.policy))),
  ];
  if (policies.length === 0) throw new Error(`${functionName}: role ${role.name} has no policy`);
  return { function: fn, role, policies };
}

/** The bucket policies that name `bucket` (their statements' resources are its ARNs). */
export function bucketPolicies(resources: readonly Recorded[], bucket: string): Policy[] {
  const arn = `arn:aws:s3:::${bucket}`;
  return resources
    .filter((r) => r.type === BUCKET_POLICY)
    .map((r) => parsePolicy(r.name, String(r.inputs.policy)))
    .filter((p) =>
      p.statements.some((s) => s.resources.patterns.some((x) => x === arn || x.startsWith(`${arn}/`))),
    );
}
