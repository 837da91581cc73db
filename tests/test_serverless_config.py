"""serverless.yml, validated offline as CI can: build the Lambda zip, ``osls print``,
``osls package`` with dummy AWS credentials (it makes no AWS call), cfn-lint on the generated
CloudFormation, then checks of what the template and the zip actually say.

Needs node_modules/.bin/osls: run ``.ci/node-tools`` first. Without it these tests are
skipped on a developer machine but fail under CI (``CI`` set, as ``.ci/run`` does), so CI
cannot pass without having validated the deployment.
Everything runs in a temporary copy of the service, so no ``.serverless/`` or ``build/``
lands in the work tree.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.ci import missing

ROOT = Path(__file__).resolve().parent.parent
OSLS = ROOT / "node_modules" / ".bin" / "osls"
BUILD = ROOT / "deploy" / "build_lambda_package.py"
LOCK = ROOT / "deploy" / "lambda-requirements.txt"
# The venv's cfn-lint (the test extra); the package has no __main__ for `python -m`.
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
if not CFN_LINT.exists():
    CFN_LINT = Path(shutil.which("cfn-lint") or "cfn-lint")
STAGE = "ci"
TOKEN_PARAM = f"/gosub/{STAGE}/github-token"
FRONT_DOORS = ("url", "cloudfront", "httpapi")
# What the Lambda Python runtime provides, so the zip must not carry it.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


@dataclass(frozen=True)
class Packaged:
    front_door: str
    template_path: Path
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.template["Resources"])

    def condition(self, name: str) -> bool:
        """Evaluate a template condition with the parameters' defaults (what a deploy uses:
        osls passes no stack parameters)."""
        return bool(_evaluate(self.template, self.template["Conditions"][name]))

    def active(self, logical_id: str) -> bool:
        cond = self.resources[logical_id].get("Condition")
        return cond is None or self.condition(cond)


def _evaluate(template: dict[str, Any], expr: Any) -> Any:
    if isinstance(expr, dict) and len(expr) == 1:
        ((fn, arg),) = expr.items()
        if fn == "Ref" and arg in template.get("Parameters", {}):
            return template["Parameters"][arg]["Default"]
        if fn == "Fn::Equals":
            return _evaluate(template, arg[0]) == _evaluate(template, arg[1])
        if fn == "Fn::Not":
            return not _evaluate(template, arg[0])
        if fn == "Condition":
            return _evaluate(template, template["Conditions"][arg])
        if fn == "Fn::If":
            return _evaluate(template, arg[1] if _evaluate(template, arg[0]) else arg[2])
        raise AssertionError(f"cannot evaluate {expr!r}")
    if isinstance(expr, str) and expr in template.get("Conditions", {}):
        return _evaluate(template, template["Conditions"][expr])
    return expr


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return proc.stdout


def _osls_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLS_"))}
    env.update(
        # Dummy credentials: package signs nothing and calls nothing, but the AWS provider
        # wants some. No profile or config file of the machine is read.
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
    )
    return env


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary copy of the service: serverless.yml plus the zip it names as artifact."""
    if not OSLS.exists():
        message = (
            f"{OSLS.relative_to(ROOT)} is missing: run .ci/node-tools (it installs osls "
            "from package-lock.json) before these tests"
        )
        missing(message)  # skipped on a developer machine, failed under CI
    svc = tmp_path_factory.mktemp("service")
    shutil.copy(ROOT / "serverless.yml", svc / "serverless.yml")
    _run([sys.executable, BUILD, "--out", svc / "build" / "lambda"], cwd=ROOT)
    return svc


@pytest.fixture(scope="module")
def packages(service: Path) -> dict[str, Packaged]:
    """``osls package`` once per front door, into directories outside the work tree."""
    env = _osls_env(service)
    out: dict[str, Packaged] = {}
    for door in FRONT_DOORS:
        target = service.parent / f"package-{door}"
        params = [f"--param=frontDoor={door}"]
        if door == "httpapi":
            params.append("--param=reservedConcurrency=7")  # any one package will do
        _run(
            [OSLS, "package", "--stage", STAGE, "--package", target, *params], cwd=service, env=env
        )
        path = target / "cloudformation-template-update-stack.json"
        out[door] = Packaged(door, path, json.loads(path.read_text()))
    return out


@pytest.fixture(scope="module")
def default(packages: dict[str, Packaged]) -> Packaged:
    return packages["url"]


@pytest.fixture(scope="module")
def function(default: Packaged) -> dict[str, Any]:
    return dict(default.resources["ProxyLambdaFunction"]["Properties"])


@pytest.fixture(scope="module")
def artifact(service: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(service / "build" / "lambda" / "gosub.zip")


def test_osls_print_validates_and_resolves(service: Path) -> None:
    # configValidationMode: error makes print fail on unknown keys or bad values.
    printed = _run([OSLS, "print", "--stage", STAGE], cwd=service, env=_osls_env(service))
    assert "runtime: python3.12" in printed
    assert f"GOSUB_GITHUB_TOKEN_PARAM: {TOKEN_PARAM}" in printed
    assert "${" not in printed, "a variable was left unresolved"


def test_osls_rejects_unknown_front_door(service: Path) -> None:
    proc = subprocess.run(
        [str(OSLS), "print", "--param=frontDoor=alb"],
        cwd=service,
        env=_osls_env(service),
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Refused for the right reason: frontDoorEvents has no "alb" (not, say, a missing
    # artifact or credentials, which would fail any front door).
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert 'Cannot resolve variable at "functions.proxy.events"' in out, out
    assert 'Value not found at "self" source' in out, out


@pytest.mark.parametrize("door", FRONT_DOORS)
def test_cfn_lint(packages: dict[str, Packaged], door: str) -> None:
    cmd: list[str | Path] = [CFN_LINT]
    if door == "httpapi":
        # W3005: osls gives the HTTP API route a DependsOn its Ref already implies.
        cmd += ["--ignore-checks", "W3005"]
    _run([*cmd, "--", packages[door].template_path], cwd=ROOT)


def test_function_runtime_and_sizing(function: dict[str, Any]) -> None:
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "handlers.aws_lambda.handler"
    assert function["MemorySize"] == 1024
    # Above CloudFront's 60 s so a slow zip build still lands in S3; within Lambda's 900 s.
    assert 60 < function["Timeout"] <= 900
    assert function["EphemeralStorage"]["Size"] >= 1024
    assert function["ReservedConcurrentExecutions"] == 20


def test_reserved_concurrency_is_a_parameter(packages: dict[str, Packaged]) -> None:
    # The httpapi package is made with --param=reservedConcurrency=7.
    function = packages["httpapi"].resources["ProxyLambdaFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == 7


def test_environment(function: dict[str, Any]) -> None:
    env = function["Environment"]["Variables"]
    assert env["GOSUB_CACHE_BUCKET"] == {"Ref": "CacheBucket"}
    # The name of the parameter, never its value (no ${ssm:} resolution at deploy time).
    assert env["GOSUB_GITHUB_TOKEN_PARAM"] == TOKEN_PARAM
    assert env["GOSUB_INLINE_MAX_BYTES"] == "4000000"
    assert env["GOSUB_CACHE_DIR"] == "/tmp/gosub-cache"
    assert not any("TOKEN" in k and k != "GOSUB_GITHUB_TOKEN_PARAM" for k in env)


def _statements(default: Packaged) -> list[dict[str, Any]]:
    policies = default.resources["IamRoleLambdaExecution"]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _flatten(value: Any) -> str:
    """A resource expression as one string (Fn::Join parts concatenated), for matching."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_flatten(v) for v in value)
    if isinstance(value, dict):
        ((fn, arg),) = value.items()
        if fn == "Fn::Join":
            return str(arg[0]).join(_flatten(v) for v in arg[1])
        if fn == "Fn::GetAtt":
            return "{" + ".".join(arg) + "}"
        if fn == "Ref":
            return "{" + str(arg) + "}"
        if fn == "Fn::Sub":
            return str(arg)
    raise AssertionError(f"unexpected resource expression {value!r}")


def test_iam_is_least_privilege(default: Packaged) -> None:
    granted: dict[str, set[str]] = {}
    for st in _statements(default):
        assert st["Effect"] == "Allow"
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        for action in _actions(st):
            assert "*" not in action, f"wildcard action {action}"
            for res in resources:
                granted.setdefault(action, set()).add(_flatten(res))
    s3_ssm = {a: r for a, r in granted.items() if a.startswith(("s3:", "ssm:", "kms:"))}
    bucket, objects = "{CacheBucket.Arn}", "{CacheBucket.Arn}/*"
    assert s3_ssm == {
        "s3:GetObject": {objects},
        "s3:PutObject": {objects},
        "s3:ListBucket": {bucket},
        "ssm:GetParameter": {
            f"arn:{{AWS::Partition}}:ssm:{{AWS::Region}}:{{AWS::AccountId}}:parameter{TOKEN_PARAM}"
        },
    }
    # Nothing else but the framework's own log permissions.
    assert set(granted) - set(s3_ssm) == {
        "logs:CreateLogStream",
        "logs:CreateLogGroup",
        "logs:TagResource",
        "logs:PutLogEvents",
    }
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert all(":log-group:/aws/lambda/gosub-ci" in r for r in granted[action])


def test_cache_bucket_is_private_and_encrypted(default: Packaged) -> None:
    bucket = default.resources["CacheBucket"]["Properties"]
    block = bucket["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"),
        True,
    )
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    policy = default.resources["CacheBucketPolicy"]["Properties"]["PolicyDocument"]
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_function_url_front_doors(packages: dict[str, Packaged]) -> None:
    for door, pkg in packages.items():
        res = pkg.resources
        url = res["ProxyLambdaFunctionUrl"]
        assert url["Type"] == "AWS::Lambda::Url"
        assert url["Properties"]["TargetFunctionArn"] == {
            "Fn::GetAtt": ["ProxyLambdaFunction", "Arn"]
        }
        # Buffered: the Python runtime cannot stream.
        assert url["Properties"].get("InvokeMode", "BUFFERED") == "BUFFERED"
        auth = _evaluate(pkg.template, url["Properties"]["AuthType"])
        public = [k for k, v in res.items() if v["Type"] == "AWS::Lambda::Permission"
                  and v["Properties"]["Principal"] == "*" and pkg.active(k)]  # fmt: skip
        cloudfront = [k for k, v in res.items() if k.startswith("CloudFront") and pkg.active(k)]
        http_api = [k for k, v in res.items() if v["Type"].startswith("AWS::ApiGatewayV2::")]
        if door == "cloudfront":
            # Only the distribution (OAC-signed requests) may call the URL.
            assert auth == "AWS_IAM"
            assert public == []
            assert {res[k]["Type"] for k in cloudfront} >= {
                "AWS::CloudFront::Distribution",
                "AWS::CloudFront::CachePolicy",
                "AWS::CloudFront::OriginAccessControl",
                "AWS::Lambda::Permission",
            }
        else:
            assert auth == "NONE"
            # Both are needed for function URLs created since October 2025.
            assert {res[k]["Properties"]["Action"] for k in public} == {
                "lambda:InvokeFunctionUrl",
                "lambda:InvokeFunction",
            }
            assert cloudfront == []
        assert bool(http_api) == (door == "httpapi")


def test_cloudfront_obeys_origin_cache_headers(packages: dict[str, Packaged]) -> None:
    res = packages["cloudfront"].resources
    policy = res["CloudFrontCachePolicy"]["Properties"]["CachePolicyConfig"]
    # MinTTL 0: no-store answers (errors, presigned redirects) are never cached.
    assert policy["MinTTL"] == 0
    assert policy["MaxTTL"] >= 31536000  # immutable versions: a year
    dist = res["CloudFrontDistribution"]["Properties"]["DistributionConfig"]
    behavior = dist["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == {"Ref": "CloudFrontCachePolicy"}
    # Managed AllViewerExceptHostHeader.
    assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    (origin,) = dist["Origins"]
    assert origin["OriginAccessControlId"] == {
        "Fn::GetAtt": ["CloudFrontOriginAccessControl", "Id"]
    }
    oac = res["CloudFrontOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert oac["OriginAccessControlOriginType"] == "lambda"
    perms = [v["Properties"] for k, v in res.items()
             if k.startswith("CloudFront") and v["Type"] == "AWS::Lambda::Permission"]  # fmt: skip
    assert {p["Action"] for p in perms} == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    for p in perms:
        assert p["Principal"] == "cloudfront.amazonaws.com"
        assert _flatten(p["SourceArn"]).endswith(":distribution/{CloudFrontDistribution}")


def test_template_deploys_the_built_zip(default: Packaged) -> None:
    code = default.resources["ProxyLambdaFunction"]["Properties"]["Code"]
    assert code["S3Key"].endswith("/gosub.zip")


def test_artifact_contents(artifact: zipfile.ZipFile) -> None:
    names = set(artifact.namelist())
    for required in (
        "handlers/aws_lambda.py",
        "gosub/web/proxy.py",
        "gosub/golang/modzip.py",
        "starlette/__init__.py",
        "httpx/__init__.py",
        "mangum/__init__.py",
        "anyio/__init__.py",
    ):
        assert required in names
    tops = {n.split("/", 1)[0] for n in names}
    for absent in (*RUNTIME_PROVIDED, "tests", "node_modules", "build", "deploy", ".venv"):
        assert absent not in tops and f"{absent}.py" not in tops, f"{absent} is in the zip"
    # Bytecode, if any, is for the runtime's 3.12 only.
    assert not [n for n in names if n.endswith(".pyc") and ".cpython-312." not in n]
    for info in artifact.infolist():
        # Lambda runs the code as another user: every file must be world-readable.
        assert (info.external_attr >> 16) & 0o444 == 0o444, info.filename


def test_artifact_handler_imports_with_only_the_runtime(
    artifact: zipfile.ZipFile, tmp_path: Path
) -> None:
    """The zip plus what the runtime provides (boto3 and its dependencies) is enough to
    import the handler and answer a Function URL request: no dependency was left out."""
    task = tmp_path / "task"
    artifact.extractall(task)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            origin = Path(spec.origin)
            src = origin.parent if origin.name == "__init__.py" else origin
            (runtime / src.name).symlink_to(src)
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"host": "example.lambda-url.us-east-1.on.aws"},
        "requestContext": {
            "http": {"method": "GET", "path": "/", "sourceIp": "192.0.2.1"},
            "domainName": "example.lambda-url.us-east-1.on.aws",
        },
        "isBase64Encoded": False,
    }
    script = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]\n"
        "import handlers.aws_lambda as m\n"
        "assert m.__file__.startswith(sys.path[0]), m.__file__\n"
        f"r = m.handler({event!r}, None)\n"
        "print(json.dumps({'status': r['statusCode'], 'headers': r.get('headers', {})}))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GOSUB_CACHE_DIR": str(tmp_path / "cache"),
        # Nothing may reach out: GitHub is an address that refuses connections.
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }
    # -I -S: no site-packages, so only the zip, the runtime set and the stdlib are importable.
    out = _run([sys.executable, "-I", "-S", "-c", script], cwd=tmp_path, env=env)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == 200, result


def test_lock_pins_pyproject_runtime_dependencies() -> None:
    pins: dict[str, str] = {}
    for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+) \\\n\s+--hash=sha256:[0-9a-f]{64}$",
                         LOCK.read_text(), re.M):  # fmt: skip
        pins[canonicalize_name(m[1])] = m[2]
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in map(Requirement, deps):
        name = canonicalize_name(dep.name)
        assert name in pins, f"{dep.name} is not in {LOCK.name}: run build_lambda_package.py --lock"
        assert dep.specifier.contains(pins[name], prereleases=True), (dep, pins[name])
    assert not set(pins) & {canonicalize_name(n) for n in RUNTIME_PROVIDED}


def test_watch_pass_runs_on_a_schedule(default: Packaged) -> None:
    # The watch pass (README "Run a private pkgsite on gosub"): an EventBridge rule calls
    # its own function, one instance at a time, with the proxy's environment.
    res = default.resources
    watch = res["WatchLambdaFunction"]["Properties"]
    assert watch["Handler"] == "handlers.aws_lambda.watch_handler"
    assert watch["ReservedConcurrentExecutions"] == 1
    env = watch["Environment"]["Variables"]
    assert env["GOSUB_CACHE_BUCKET"] == {"Ref": "CacheBucket"}
    assert env["GOSUB_GITHUB_TOKEN_PARAM"] == TOKEN_PARAM
    rules = [r["Properties"] for r in res.values() if r["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 1 and rules[0]["ScheduleExpression"] == "rate(10 minutes)"
    assert rules[0]["State"] == "ENABLED"
    (target,) = rules[0]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["WatchLambdaFunction", "Arn"]}
    permissions = [
        r["Properties"]
        for r in res.values()
        if r["Type"] == "AWS::Lambda::Permission"
        and r["Properties"]["Principal"] == "events.amazonaws.com"
    ]
    assert len(permissions) == 1
    assert permissions[0]["FunctionName"] == {"Fn::GetAtt": ["WatchLambdaFunction", "Arn"]}
    # No URL or HTTP route for it: only the schedule calls it.
    assert not [r for r in res.values() if r["Type"] == "AWS::Lambda::Url"][1:]
