"""`chalice package` builds what Lambda will run: our code plus Linux wheels, small.

chalice downloads manylinux wheels from PyPI for the Lambda runtime and architecture on
the first run (cached in .chalice/deployments/ afterwards), so the first run needs PyPI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
# 15 MiB until issue 30: Pillow for the photo images adds 3.4 MB (3.3 MiB) with its unused
# parts left out (scripts/chalice_pyc.PIL_LEFT_OUT; 6.6 MB whole): 15.25 MiB on 2026-12-05.
MAX_BYTES = 16 * 1024 * 1024


def package(stage: str, out: Path) -> Path:
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "AWS_ACCESS_KEY_ID": "testing",  # never real AWS: packaging makes no AWS call
        "AWS_SECRET_ACCESS_KEY": "testing",
        "MAIL_OUTBOX": "/tmp/a-local-outbox",  # as in a `make run` shell: must not travel
    }
    env.pop("AWS_PROFILE", None)
    chalice = [sys.executable, str(ROOT / "scripts" / "chalice_pyc.py")]  # what `make package` runs
    result = subprocess.run(
        [*chalice, "--project-dir", str(ROOT), "package", "--stage", stage, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request, tmp_path_factory):
    stage = request.param
    out = package(stage, tmp_path_factory.mktemp(f"package-{stage}") / "out")
    return stage, out


def wheel_tags(zf: zipfile.ZipFile, dist_prefix: str) -> list[str]:
    name = next(n for n in zf.namelist() if n.startswith(dist_prefix) and n.endswith(".dist-info/WHEEL"))
    return [
        line.split(":", 1)[1].strip()
        for line in zf.read(name).decode().splitlines()
        if line.startswith("Tag:")
    ]


def test_zip_holds_app_chalicelib_and_linux_wheels(packaged):
    stage, out = packaged
    zip_path = out / "deployment.zip"
    size = zip_path.stat().st_size
    print(f"\n{stage} deployment.zip: {size / 1024 / 1024:.2f} MiB")
    assert size < MAX_BYTES

    arch = CONFIG["stages"][stage]["lambda_architecture"]
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[arch]
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        assert "app.py" in names
        ours = {p.relative_to(ROOT).as_posix() for p in (ROOT / "chalicelib").rglob("*.py")}
        ours.add("chalicelib/templates/packing_slip.html")
        assert ours and ours <= names, ours - names
        # Compiled extensions built for Linux on the configured architecture.
        for ext in ("pydantic_core/_pydantic_core", "pymongo/_cmessage", "bson/_cbson"):
            so = [n for n in names if n.startswith(ext) and n.endswith(".so")]
            assert so and all(f"{machine}-linux-gnu" in n for n in so), (ext, so)
        for dist in ("pymongo-", "pydantic_core-"):
            tags = wheel_tags(zf, dist)
            assert tags and all("manylinux" in t and t.endswith(machine) for t in tags), (dist, tags)
        # Nothing that must not ship: tests, dev tools, local data, boto3 (the runtime has it).
        tops = {n.split("/")[0] for n in names}
        assert not tops & {"tests", ".venv", ".data", "boto3", "botocore", "moto", "mongomock", "scripts"}, (
            tops
        )
        assert not any(n.endswith((".env", "jwt_secret")) for n in names)


def test_packaged_template_passes_cfn_lint(packaged):
    """The SAM template `chalice package` writes is valid CloudFormation (Chalice's
    log_retention_in_days made it invalid: E1019/E3030 on ${ApiHandler}; not used)."""
    stage, out = packaged
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--regions",
            "ap-northeast-1",
            "--",
            str(out / "sam.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "log_retention_in_days" not in CONFIG["stages"][stage]
    sam = json.loads((out / "sam.json").read_text())
    assert not [r for r in sam["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    fn = sam["Resources"]["APIHandler"]["Properties"]
    assert fn["ReservedConcurrentExecutions"] == CONFIG["stages"][stage]["reserved_concurrency"]


# Atlas's connection cap of the smallest tiers (M0 free, Flex); M10 allows 1,500.
ATLAS_CONNECTION_CAP = 500
# Per Lambda container: pymongo monitors each of the 3 replica-set members with two
# connections (heartbeat + round-trip time), plus at most maxPoolSize to the primary.
REPLICA_SET_MEMBERS = 3


def test_reserved_concurrency_fits_the_atlas_connection_cap():
    """dev and prod may share one cluster: every container of both at once, each with a
    full pool, stays under the cap with room for init-db, the Atlas UI and a shell."""
    total = 0
    for stage in ("dev", "prod"):
        cfg = CONFIG["stages"][stage]
        pool = int(cfg["environment_variables"]["MONGO_POOL_SIZE"])
        total += cfg["reserved_concurrency"] * (2 * REPLICA_SET_MEMBERS + pool)
    assert total <= ATLAS_CONNECTION_CAP - 100, total


def test_zip_ships_bytecode_for_the_runtime_python(packaged):
    """Every module has an unchecked hash-based pyc of the runtime's Python next to it, so a
    cold start in the read-only /var/task compiles nothing (scripts/chalice_pyc.py)."""
    import importlib.util

    _, out = packaged
    runtime = json.loads((out / "sam.json").read_text())["Resources"]["APIHandler"]["Properties"]["Runtime"]
    assert runtime == f"python{sys.version_info.major}.{sys.version_info.minor}"
    tag = sys.implementation.cache_tag  # cpython-311 for python3.11
    with zipfile.ZipFile(out / "deployment.zip") as zf:
        names = set(zf.namelist())
        pycs = {n for n in names if n.endswith(".pyc")}
        assert pycs and all("/__pycache__/" in "/" + n and n.endswith(f".{tag}.pyc") for n in pycs)
        for module in ["app.py", "chalice/app.py", "pydantic/main.py", "pymongo/collection.py"] + [
            p.relative_to(ROOT).as_posix() for p in (ROOT / "chalicelib").rglob("*.py")
        ]:
            folder, _, base = module.rpartition("/")
            pyc = f"{folder + '/' if folder else ''}__pycache__/{base[:-3]}.{tag}.pyc"
            assert pyc in names, pyc
            data = zf.read(pyc)
            assert data[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, unchecked
            assert data[8:16] == importlib.util.source_hash(zf.read(module))
        sources = [n for n in names if n.endswith(".py")]
        assert len(pycs) >= 0.95 * len(sources), (len(pycs), len(sources))


def test_packaged_babel_formats_money_in_both_shop_languages(packaged, tmp_path):
    """Babel's locale data is cut down to the shop languages (scripts/chalice_pyc.py):
    the packaged copy alone still formats and knows every currency's minor units."""
    _, out = packaged
    with zipfile.ZipFile(out / "deployment.zip") as zf:
        data = [n for n in zf.namelist() if n.startswith("babel/locale-data/")]
        assert 3 <= len(data) < 20, len(data)
        zf.extractall(tmp_path, [n for n in zf.namelist() if n.startswith("babel/")])
    probe = (
        "import sys; sys.path[:0] = [sys.argv[1]]\n"
        "import babel; assert babel.__file__.startswith(sys.argv[1]), babel.__file__\n"
        "from babel.numbers import format_currency, get_currency_precision as p\n"
        "print(format_currency(1234.5, 'TWD', locale='zh_Hant_TW'), format_currency(1234, 'JPY', locale='en'),"
        " p('JPY'), p('KRW'), p('USD'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["$1,234.50", "¥1,234", "0", "0", "2"]


def _load_chalice_pyc():
    """scripts/ is not a package: the script by path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("chalice_pyc", ROOT / "scripts" / "chalice_pyc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


chalice_pyc = _load_chalice_pyc()


def _needed(data: bytes) -> set[str]:
    """The shared libraries a 64-bit little-endian ELF file names (its DT_NEEDED entries)."""
    import struct

    shoff, _, _, _, _, shentsize, shnum, _ = struct.unpack_from("<QIHHHHHH", data, 0x28)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC; its sh_link: the string table
    strings_at = sections[dynamic[6]][4]
    needed = set()
    for at in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", data, at)
        if tag == 1:  # DT_NEEDED
            end = data.index(b"\0", strings_at + value)
            needed.add(data[strings_at + value : end].decode())
    return needed


def test_pillow_is_packaged_without_the_parts_photos_never_load(packaged):
    """Issue 30: Pillow's AVIF, text, colour-management and Tk parts are left out
    (scripts/chalice_pyc.PIL_LEFT_OUT); everything the JPEG, PNG and WebP paths load is
    there, down to each library they link."""
    _, out = packaged
    with zipfile.ZipFile(out / "deployment.zip") as zf:
        names = set(zf.namelist())
        shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("pillow.libs/")}
        left_out = [n for n in names if n.startswith(chalice_pyc.PIL_LEFT_OUT)]
        assert left_out == []
        used = [n for n in names if n.startswith(("PIL/_imaging.", "PIL/_webp.")) and n.endswith(".so")]
        assert len(used) == 2, used
        todo, seen = list(used), set()
        while todo:
            for lib in _needed(zf.read(todo.pop())):
                if lib in seen or lib.startswith(
                    ("libc.", "libm.", "libz.", "libpthread", "ld-linux", "libdl")
                ):
                    continue
                seen.add(lib)
                assert lib in shipped, (lib, sorted(shipped))
                todo.append(f"pillow.libs/{lib}")
        assert {n.split("-")[0] for n in seen} >= {"libjpeg", "libwebp", "libtiff"}


def test_sam_template_has_runtime_settings_policy_and_no_secrets(packaged):
    stage, out = packaged
    stage_cfg = CONFIG["stages"][stage]
    sam = json.loads((out / "sam.json").read_text())
    fn = sam["Resources"]["APIHandler"]["Properties"]
    assert fn["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert fn["MemorySize"] == stage_cfg["lambda_memory_size"] == 1024
    assert fn["Timeout"] == stage_cfg["lambda_timeout"] == 15
    assert fn["Architectures"] == [stage_cfg["lambda_architecture"]]
    env = fn["Environment"]["Variables"]
    assert "MONGO_URI" not in env and "JWT_SECRET" not in env
    assert "MAIL_OUTBOX" not in env  # the stage sends through SES, whatever the shell had
    assert env["MONGO_URI_SSM_PARAM"] == f"/personal-shopper/{stage}/mongo_uri"
    assert env["JWT_SECRET_SSM_PARAM"] == f"/personal-shopper/{stage}/jwt_secret"
    assert env["ALLOW_SIGNUP"] == ("false" if stage == "prod" else "true")

    role = sam["Resources"]["ApiHandlerRole"]["Properties"]
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    assert role["Policies"][0]["PolicyDocument"] == policy

    # The scheduled close of order forms (sales/routes.py): its own function, every 5
    # minutes, with the API's settings and role, one at a time and time to close many forms.
    close = sam["Resources"]["CloseDueForms"]["Properties"]
    assert close["Handler"] == "app.close_due_forms"
    assert close["Environment"]["Variables"] == env
    close_role = sam["Resources"]["CloseDueFormsRole"]["Properties"]
    assert close_role["Policies"][0]["PolicyDocument"] == policy
    assert close["ReservedConcurrentExecutions"] == 1 and close["Timeout"] == 120
    (rule,) = close["Events"].values()
    assert rule["Type"] == "Schedule" and rule["Properties"]["Schedule"] == "rate(5 minutes)"

    # Preflight is answered by API Gateway itself, with the stage's origin (not "*").
    paths = sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert len(paths) >= 8
    for path, ops in paths.items():
        assert "options" in ops, path
        params = ops["options"]["x-amazon-apigateway-integration"]["responses"]["default"][
            "responseParameters"
        ]
        assert params["method.response.header.Access-Control-Allow-Origin"] == f"'{env['CORS_ORIGIN']}'"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_role_policy_is_least_privilege(stage):
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    env = CONFIG["stages"][stage]["environment_variables"]
    actions = {}
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow"
        for action in [st["Action"]] if isinstance(st["Action"], str) else st["Action"]:
            assert "*" not in action, action
            actions[action] = st
    # No logs:CreateLogGroup (make deploy creates the group, with retention, before the
    # function exists) and no ses:SendRawEmail (the mailer calls SendEmail only).
    assert set(actions) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ssm:GetParameters",
        "kms:Decrypt",
        "ses:SendEmail",
    }
    ses = actions["ses:SendEmail"]
    assert ses["Resource"] == "arn:aws:ses:*:*:identity/*"
    assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": env["SES_SENDER"]}}
    params = [f"arn:aws:ssm:*:*:parameter{env[n]}" for n in ("MONGO_URI_SSM_PARAM", "JWT_SECRET_SSM_PARAM")]
    assert actions["ssm:GetParameters"]["Resource"] == params
    cond = actions["kms:Decrypt"]["Condition"]["StringLike"]
    assert cond["kms:ViaService"] == "ssm.*.amazonaws.com"
    assert cond["kms:EncryptionContext:PARAMETER_ARN"] == params
    assert actions["logs:PutLogEvents"]["Resource"] == [
        f"arn:aws:logs:*:*:log-group:/aws/lambda/personal-shopper-{stage}:*"
    ]
    assert CONFIG["stages"][stage]["autogen_policy"] is False


def _cold_start(env_vars: dict) -> subprocess.CompletedProcess:
    """Import the handler module as Lambda's init does, with exactly the stage's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO", "CORS", "PUBLIC", "SES"))}
    env.update(env_vars, AWS_LAMBDA_FUNCTION_NAME="personal-shopper-prod", JWT_SECRET="j" * 40)
    return subprocess.run(
        [sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_bare_chalice_deploy_of_placeholders_fails_at_cold_start():
    """The committed config deployed as is (`chalice deploy` without `make deploy`): the
    Lambda refuses to start, saying why, instead of serving a CORS origin nobody has."""
    env = CONFIG["stages"]["prod"]["environment_variables"]
    assert "CHANGE-ME" in env["CORS_ORIGIN"]
    result = _cold_start(env)
    assert result.returncode != 0
    assert "refusing to start" in result.stderr and "CORS_ORIGIN" in result.stderr, result.stderr
    assert "make deploy" in result.stderr
    site = "https://d1234abcd.cloudfront.net"
    filled = {**env, "PUBLIC_SITE_URL": site, "CORS_ORIGIN": site, "SES_SENDER": "orders@shop.example"}
    assert _cold_start({**filled, "CORS_ORIGIN": "*"}).returncode != 0
    outbox = _cold_start({**filled, "MAIL_OUTBOX": "/tmp/outbox"})  # a local run's setting
    assert outbox.returncode != 0 and "MAIL_OUTBOX" in outbox.stderr, outbox.stderr
    ok = _cold_start(filled)
    assert ok.returncode == 0, ok.stderr
