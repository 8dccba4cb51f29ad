# SPDX-License-Identifier: MIT
"""What a team copies from the repository is correct: docker/Dockerfile, examples/images/,
examples/terraform/ and examples/scripts/.

Contract, without a Docker engine or an AWS account:
- docker/Dockerfile (parsed instruction by instruction): its build stage runs the recipe CI runs
  (docker/install-deps.sh, then docker/build-static.sh, or docker/build-static-arm64.sh for
  arm64 — its RUN script is executed here with stub scripts for every target architecture); it
  declares the VERSION and TARGETARCH build arguments; every COPY source exists in the repository
  and survives Dockerfile.dockerignore; the final stage is FROM scratch holding /execmark and
  the hook files;
- the example application Dockerfiles have the three lines (COPY --from the execmark image, RUN
  hook install, ENTRYPOINT execmark init --), ENV ENV, and the distribution's packages for SSM's
  `script` and `cat`;
- every .tf file parses with a real HCL parser (@cdktf/hcl2json from npm, installed once into
  build/tools/, which is not committed) and holds the resources the ECS Exec setup needs; the
  metric filter patterns and Logs Insights regexes match real marker lines;
- the scripts and docker/*.sh pass shellcheck; exec-session.sh and fetch-audit.sh, run against
  a fake `aws` on PATH, make exactly the calls they should (run-task with the claim override and
  the Owner tag, the wait, execute-command in wrapper mode, stop-task on every way out; paged
  get-log-events, the S3 window, the container log, CloudTrail; execmark audit on the files).
"""
import fcntl
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DOCKERFILE = REPO / "docker" / "Dockerfile"
IMAGES = REPO / "examples" / "images"
TERRAFORM = REPO / "examples" / "terraform"
SCRIPTS = REPO / "examples" / "scripts"
TOOLS = REPO / "build" / "tools"
HCL2JSON_VERSION = "0.21.0"


# ---------------------------------------------------------------------------------------------
# A small Dockerfile parser: instructions with their arguments, continuation lines joined,
# comments and parser directives dropped, stages split at FROM.

class Instruction:
    def __init__(self, keyword, rest, line):
        self.keyword = keyword.upper()
        self.rest = rest.strip()
        self.line = line

    def exec_form(self):
        """The JSON array of an exec-form RUN/ENTRYPOINT/CMD, or None for the shell form."""
        if self.rest.startswith("["):
            value = json.loads(self.rest)
            assert isinstance(value, list) and all(isinstance(v, str) for v in value), self.rest
            return value
        return None

    def flags_and_args(self):
        """(--flag=value dict, remaining whitespace-separated words) of COPY/FROM."""
        flags, words = {}, []
        for word in self.rest.split():
            if word.startswith("--") and not words:
                name, _, value = word[2:].partition("=")
                flags[name] = value
            else:
                words.append(word)
        return flags, words

    def command(self):
        """A RUN's command: its text without the leading BuildKit options (--mount=, --network=,
        --security=), which Docker consumes and never hands to the shell."""
        text = self.rest
        while text.startswith("--"):
            _, _, text = text.partition(" ")
            text = text.lstrip()
        return text

    def __repr__(self):
        return f"{self.line}: {self.keyword} {self.rest}"


def parse_dockerfile(path):
    instructions, pending, start = [], "", 0
    lines = Path(path).read_text().splitlines()
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue  # blank, comment or parser directive (`# syntax=`)
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are removed
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        keyword, _, rest = text.partition(" ")
        instructions.append(Instruction(keyword, rest, start))
    assert not pending, f"{path}: continuation at end of file"
    known = {"FROM", "ARG", "RUN", "COPY", "ADD", "ENV", "WORKDIR", "ENTRYPOINT", "CMD", "LABEL",
             "USER", "EXPOSE", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "ONBUILD"}
    for ins in instructions:
        assert ins.keyword in known, f"{path}:{ins.line}: unknown instruction {ins.keyword}"
    return instructions


class Stage:
    def __init__(self, from_ins):
        flags, words = from_ins.flags_and_args()
        self.base = words[0]
        self.name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
        self.platform = flags.get("platform")
        self.instructions = []

    def of(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]

    def args(self):
        return {i.rest.split("=", 1)[0] for i in self.of("ARG")}


def stages_of(instructions):
    """(global ARG names, stages)."""
    global_args, stages = set(), []
    for ins in instructions:
        if ins.keyword == "FROM":
            stages.append(Stage(ins))
        elif not stages:
            assert ins.keyword == "ARG", f"{ins}: only ARG may come before the first FROM"
            global_args.add(ins.rest.split("=", 1)[0])
        else:
            stages[-1].instructions.append(ins)
    return global_args, stages


def variables_in(text):
    return set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))


# BuildKit's automatic platform arguments (usable in FROM without a declaration).
AUTOMATIC_ARGS = {"BUILDPLATFORM", "TARGETPLATFORM", "BUILDOS", "BUILDARCH", "TARGETOS",
                  "TARGETARCH", "TARGETVARIANT", "BUILDVARIANT"}


@pytest.fixture(scope="module")
def docker_stages():
    return stages_of(parse_dockerfile(DOCKERFILE))


def test_dockerfile_build_stage_runs_the_ci_recipe(docker_stages):
    _, stages = docker_stages
    build = stages[0]
    assert build.base == "debian:12", build.base
    assert build.platform == "$BUILDPLATFORM", "the build stage should not run under emulation"
    runs = " ; ".join(i.command() for i in build.of("RUN"))
    for script in ("docker/install-deps.sh build", "docker/$script"):
        assert script in runs, runs
    for script in ("build-static.sh", "build-static-arm64.sh"):
        assert f"script={script}" in runs, runs
        assert (REPO / "docker" / script).is_file()
    # The recipe is the scripts': no compiler or CMake call of its own.
    for own_build in ("cmake ", "g++", "ninja", "make "):
        assert own_build not in runs, f"build logic duplicated in the Dockerfile: {own_build}"


def test_dockerfile_declares_its_build_arguments(docker_stages):
    global_args, stages = docker_stages
    build, final = stages[0], stages[-1]
    assert {"VERSION", "TARGETARCH"} <= build.args()
    for stage in stages:
        declared = global_args | stage.args()
        for ins in stage.instructions:
            if ins.keyword in ("LABEL", "COPY", "WORKDIR", "ENV"):
                undeclared = variables_in(ins.rest) - declared
                assert not undeclared, f"{ins}: undeclared {undeclared}"
    for stage in stages:
        undeclared = variables_in(stage.base + (stage.platform or "")) - global_args \
            - AUTOMATIC_ARGS
        assert not undeclared, f"FROM {stage.base}: undeclared {undeclared}"
    assert "VERSION" in final.args(), "the final stage labels the version"


def dockerignore_excludes(path):
    patterns = [line.strip() for line in (REPO / "docker" / "Dockerfile.dockerignore")
                .read_text().splitlines() if line.strip() and not line.startswith("#")]
    for pattern in patterns:
        prefix = pattern.rstrip("/")
        if "*" not in prefix and (path == prefix or path.startswith(prefix + "/")):
            return pattern
    return None


def test_dockerfile_copy_sources_exist_in_the_context(docker_stages):
    _, stages = docker_stages
    names = [s.name for s in stages]
    copies = [i for s in stages for i in s.of("COPY")] + [i for s in stages for i in s.of("ADD")]
    assert copies
    for ins in copies:
        flags, words = ins.flags_and_args()
        sources = words[:-1]
        assert sources, f"{ins}: no source"
        if "from" in flags:
            assert flags["from"] in names[:-1], f"{ins}: --from names no earlier stage"
            continue
        for source in sources:
            assert (REPO / source).exists(), f"{ins}: {source} is not in the repository"
            assert dockerignore_excludes(source.rstrip("/")) is None, \
                f"{ins}: {source} is excluded by docker/Dockerfile.dockerignore"
    # What the build stage needs from `COPY . .` is in the context.
    for needed in ("CMakeLists.txt", "CMakePresets.json", "cmake", "agent", "docker",
                   "shell-hooks", ".git"):
        assert dockerignore_excludes(needed) is None, f"{needed} excluded from the context"
    assert dockerignore_excludes("build") is not None, "build/ should stay out of the context"


def test_dockerfile_final_stage_is_scratch_with_binary_and_hooks(docker_stages):
    _, stages = docker_stages
    final = stages[-1]
    assert final.base == "scratch"
    assert not final.of("RUN"), "a scratch stage cannot RUN anything"
    targets = {}
    for ins in final.of("COPY"):
        flags, words = ins.flags_and_args()
        for source in words[:-1]:
            targets[source] = (flags.get("from"), words[-1])
    assert targets["/out/execmark"] == (stages[0].name, "/execmark")
    hook_files = sorted(p.name for p in (REPO / "shell-hooks").iterdir() if p.is_file())
    for hook in hook_files:
        assert targets[f"shell-hooks/{hook}"] == (None, "/usr/share/execmark/hooks/"), targets
    assert final.of("ENTRYPOINT")[0].exec_form() == ["/execmark"]


def write_stub(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.mark.parametrize("build_arch, target, script, preset", [
    ("amd64", "", "build-static.sh", "release-static"),
    ("amd64", "amd64", "build-static.sh", "release-static"),
    ("amd64", "arm64", "build-static-arm64.sh", "release-static-arm64"),
    ("arm64", "arm64", "build-static.sh", "release-static"),
    ("amd64", "s390x", None, None),
    ("arm64", "amd64", None, None),
])
def test_dockerfile_build_script_picks_the_recipe(docker_stages, tmp_path, build_arch, target,
                                                  script, preset):
    # The build stage's last RUN, executed by /bin/sh (as Docker does) in a stand-in for /src
    # whose docker/ scripts are stubs that record how they were called.
    _, stages = docker_stages
    run = stages[0].of("RUN")[-1].command()
    out = tmp_path / "out"
    run = run.replace("/out", str(out))
    src, bin_dir = tmp_path / "src", tmp_path / "bin"
    (src / "docker").mkdir(parents=True)
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    for name, built in (("build-static.sh", "release-static"),
                        ("build-static-arm64.sh", "release-static-arm64")):
        write_stub(src / "docker" / name,
                   f'echo "{name} $* EXECMARK_VERSION=$EXECMARK_VERSION" >>"{calls}"\n'
                   f'mkdir -p build/{built}/agent && echo binary >build/{built}/agent/execmark\n')
    write_stub(bin_dir / "dpkg", f'[ "$1" = --print-architecture ] && echo {build_arch}\n')
    write_stub(bin_dir / "file", 'echo "ELF stub"\n')
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", VERSION="1.2.3")
    if target:
        env["TARGETARCH"] = target
    else:
        env.pop("TARGETARCH", None)
    result = subprocess.run(["/bin/sh", "-c", run], cwd=src, env=env, capture_output=True,
                            text=True, timeout=30)
    if script is None:
        assert result.returncode != 0
        assert "cannot build" in result.stderr, result.stderr
        assert not calls.exists()
        return
    assert result.returncode == 0, result.stderr
    assert calls.read_text() == f"{script}  EXECMARK_VERSION=1.2.3\n"
    assert (out / "execmark").read_text() == "binary\n"


# ---------------------------------------------------------------------------------------------
# examples/images/

IMAGE_PACKAGES = {
    # file: (base image prefix, what must be installed or checked for script and cat)
    "Dockerfile.debian": ("debian:", None),
    "Dockerfile.alpine": ("alpine:", "apk add --no-cache util-linux-misc"),
    "Dockerfile.amazonlinux": ("amazonlinux:2023", "dnf install -y util-linux"),
}


def test_every_example_image_is_checked():
    assert sorted(p.name for p in IMAGES.glob("Dockerfile.*")) == sorted(IMAGE_PACKAGES)


@pytest.mark.parametrize("name", sorted(IMAGE_PACKAGES))
def test_example_image_has_the_three_lines(name):
    base_prefix, install = IMAGE_PACKAGES[name]
    global_args, stages = stages_of(parse_dockerfile(IMAGES / name))
    assert [s.name for s in stages] == ["execmark", None]
    assert stages[0].base == "${EXECMARK_IMAGE}" and "EXECMARK_IMAGE" in global_args
    app = stages[1]
    assert app.base.startswith(base_prefix), app.base
    order = [(i.keyword, i.rest) for i in app.instructions]

    copy = [i for i in app.of("COPY") if i.flags_and_args()[0].get("from") == "execmark"]
    assert len(copy) == 1
    assert copy[0].flags_and_args()[1] == ["/execmark", "/usr/local/bin/execmark"]
    hook = [i for i in app.of("RUN") if i.exec_form() == ["/usr/local/bin/execmark", "hook",
                                                            "install"]]
    assert len(hook) == 1, "RUN [\"/usr/local/bin/execmark\", \"hook\", \"install\"]"
    entrypoints = app.of("ENTRYPOINT")
    assert len(entrypoints) == 1
    assert entrypoints[0].exec_form() == ["/usr/local/bin/execmark", "init", "--"]
    envs = [i.rest for i in app.of("ENV")]
    assert "ENV=/etc/execmark/hook.sh" in envs, envs
    assert order.index(("COPY", copy[0].rest)) < order.index(("RUN", hook[0].rest))

    # script and cat: installed (or checked) before the hooks are installed, so that the
    # shells a package brings are there when `hook install` looks for them.
    checks = [i for i in app.of("RUN") if "command -v script" in i.rest
              and "command -v cat" in i.rest]
    assert checks, "the image build should fail without script and cat"
    assert order.index(("RUN", checks[0].rest)) < order.index(("RUN", hook[0].rest))
    if install:
        assert install in checks[0].rest, checks[0].rest
    assert app.of("CMD"), "the application's command"


# ---------------------------------------------------------------------------------------------
# examples/terraform/: parsed by HashiCorp's HCL parser (compiled to WebAssembly, from npm).

HCL_PARSE_JS = r"""
const fs = require("fs");
const hcl = require(process.argv[1] + "/node_modules/@cdktf/hcl2json");
(async () => {
  const out = {};
  let failed = false;
  for (const file of process.argv.slice(2)) {
    try {
      out[file] = await hcl.parse(file, fs.readFileSync(file, "utf8"));
    } catch (e) {
      out[file] = {"__error__": String(e)};
      failed = true;
    }
  }
  process.stdout.write(JSON.stringify(out));
  process.exit(failed ? 1 : 0);
})();
"""


@pytest.fixture(scope="module")
def hcl2json():
    """Directory holding @cdktf/hcl2json (installed on first use; build/ is not committed)."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are not installed (Debian: apt-get install npm)")
    prefix = TOOLS / f"hcl2json-{HCL2JSON_VERSION}"
    marker = prefix / "node_modules" / "@cdktf" / "hcl2json" / "package.json"
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # CTest may run the builds' copies of this file at once
        if not marker.exists():
            result = subprocess.run(
                ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                 "--no-save", f"@cdktf/hcl2json@{HCL2JSON_VERSION}"],
                capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, f"npm install @cdktf/hcl2json failed:\n{result.stderr}"
    return prefix


def parse_hcl(prefix, files):
    result = subprocess.run(["node", "-e", HCL_PARSE_JS, str(prefix)] + [str(f) for f in files],
                            capture_output=True, text=True, timeout=120)
    return result.returncode, json.loads(result.stdout or "{}"), result.stderr


@pytest.fixture(scope="module")
def terraform(hcl2json):
    files = sorted(TERRAFORM.glob("*.tf"))
    rc, parsed, err = parse_hcl(hcl2json, files)
    errors = {Path(f).name: d["__error__"] for f, d in parsed.items() if "__error__" in d}
    assert rc == 0 and not errors, f"HCL parse errors: {errors} {err}"
    merged = {}
    for document in parsed.values():
        for block, content in document.items():
            if block in ("resource", "data"):
                for rtype, named in content.items():
                    for name, bodies in named.items():
                        merged.setdefault(block, {}).setdefault(rtype, {})[name] = bodies[0]
            elif block in ("variable", "output"):
                for name, bodies in content.items():
                    merged.setdefault(block, {})[name] = bodies[0]
            else:
                merged.setdefault(block, []).append(content)
    return merged


def test_terraform_files_are_the_expected_ones():
    assert {"versions.tf", "variables.tf", "outputs.tf"} <= {p.name for p in TERRAFORM.glob("*.tf")}


def test_hcl_parser_rejects_a_broken_file(hcl2json, tmp_path):
    broken = tmp_path / "broken.tf"
    broken.write_text('resource "aws_sns_topic" "x" {\n  name = \n}\n')
    rc, parsed, _ = parse_hcl(hcl2json, [broken])
    assert rc != 0 and "__error__" in parsed[str(broken)]


def statements(policy_document):
    return policy_document["statement"]


def test_terraform_task_role_allows_exec_and_session_logging(terraform):
    task = statements(terraform["data"]["aws_iam_policy_document"]["task_exec"])
    actions = {a for s in task for a in s["actions"]}
    assert {"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
            "logs:DescribeLogGroups", "logs:CreateLogStream", "logs:DescribeLogStreams",
            "logs:PutLogEvents", "s3:PutObject", "s3:GetEncryptionConfiguration",
            "kms:Decrypt"} <= actions
    task_role = terraform["resource"]["aws_iam_role"]["task"]
    assert "ecs_tasks_assume" in task_role["assume_role_policy"]
    execution = terraform["resource"]["aws_iam_role_policy_attachment"]["execution"]
    assert "AmazonECSTaskExecutionRolePolicy" in execution["policy_arn"]


def test_terraform_operator_policy_limits_exec_to_the_app_container(terraform):
    operator = statements(terraform["data"]["aws_iam_policy_document"]["operator"])
    exec_statements = [s for s in operator if "ecs:ExecuteCommand" in s["actions"]]
    assert len(exec_statements) == 1
    exec_statement = exec_statements[0]
    assert exec_statement.get("effect", "Allow") == "Allow"
    assert "${local.cluster_arn}" in exec_statement["resources"]
    conditions = exec_statement["condition"]
    assert [c["variable"] for c in conditions] == ["ecs:container-name"]
    assert conditions[0]["values"] == ["${var.container_name}"]
    denied = [s for s in operator if s.get("effect") == "Deny"]
    assert any("ssm:StartSession" in s["actions"] for s in denied)


def test_terraform_cluster_logs_sessions_to_cloudwatch_and_s3(terraform):
    cluster = terraform["resource"]["aws_ecs_cluster"]["this"]
    config = cluster["configuration"][0]["execute_command_configuration"][0]
    assert config["logging"] == "OVERRIDE"
    assert "aws_kms_key.exec" in config["kms_key_id"]
    logging = config["log_configuration"][0]
    assert "aws_cloudwatch_log_group.exec" in logging["cloud_watch_log_group_name"]
    assert "aws_s3_bucket.exec_logs" in logging["s3_bucket_name"]
    assert logging["s3_key_prefix"]


def test_terraform_task_definition_runs_execmark_as_pid1(terraform):
    task = terraform["resource"]["aws_ecs_task_definition"]["app"]
    # A jsonencode() expression as source text; its comments removed (no string in it has #).
    definitions = re.sub(r"#[^\n]*", "", task["container_definitions"])
    assert re.search(r'entryPoint\s*=\s*\["/usr/local/bin/execmark",\s*"init",', definitions)
    assert '"--"]' in definitions
    assert "initProcessEnabled" not in definitions, "execmark is the init"
    assert "awslogs" in definitions
    assert task["requires_compatibilities"] == ["FARGATE"]
    comment = (TERRAFORM / "ecs.tf").read_text()
    assert "initProcessEnabled" in comment, "say why initProcessEnabled is left out"


def test_terraform_eventbridge_rule_sends_execute_command_to_sns(terraform):
    rule = terraform["resource"]["aws_cloudwatch_event_rule"]["execute_command"]
    pattern = rule["event_pattern"]
    for needle in ('["aws.ecs"]', '"AWS API Call via CloudTrail"', '["ExecuteCommand"]',
                   '["ecs.amazonaws.com"]'):
        assert needle in pattern, pattern
    target = terraform["resource"]["aws_cloudwatch_event_target"]["execute_command_sns"]
    assert "aws_sns_topic.alerts.arn" in target["arn"]
    transformer = target["input_transformer"][0]
    paths = transformer["input_paths"]
    assert paths["session"] == "$.detail.responseElements.session.sessionId"
    assert paths["principal"] == "$.detail.userIdentity.arn"
    for name in paths:
        assert f"<{name}>" in transformer["input_template"]
    template = transformer["input_template"]
    assert template.startswith('"') and template.endswith('"')


def test_terraform_alarms_and_queries_exist(terraform):
    filters = terraform["resource"]["aws_cloudwatch_log_metric_filter"]
    patterns = {name: f["pattern"] for name, f in filters.items()}
    assert any("unsigned=" in p for p in patterns.values())
    assert any("exec.gone" in p for p in patterns.values())
    alarms = terraform["resource"]["aws_cloudwatch_metric_alarm"]
    assert set(alarms) == {"unsigned", "bypassed"}
    for alarm in alarms.values():
        assert "aws_sns_topic.alerts.arn" in " ".join(alarm["alarm_actions"])
        metrics = [q["metric"][0]["metric_name"] for q in alarm["metric_query"] if "metric" in q]
        assert all("aws_cloudwatch_log_metric_filter." in m for m in metrics), metrics
    queries = terraform["resource"]["aws_cloudwatch_query_definition"]
    assert len(queries) >= 4
    for query in queries.values():
        assert "EXECMARK1" in query["query_string"] or "ecs-execute-command-" in \
            query["query_string"]
    assert {"region", "name", "image", "container_name"} <= set(terraform["variable"])
    assert {"cluster_arn", "exec_log_group", "container_log_group", "session_log_s3_uri",
            "operator_policy_arn"} <= set(terraform["output"])
    assert any("required_providers" in body for t in terraform["terraform"] for body in t)


# Marker lines as execmark writes them (docs/markers.md), to hold the patterns against.
SID = "ecs-execute-command-0a1b2c3d4e5f6a7b8"
SIG = "ed25519=" + "A" * 86
OPEN = ('EXECMARK1 {"v":1,"ev":"open","ts":"2026-03-02T09:00:00.123Z","kid":"k0e11b71495203fa0",'
        f'"tseq":7,"sid":"{SID}","seq":1,"prev":"-","task":"arn:aws:ecs:eu-west-1:1:task/c/t",'
        '"cluster":"c","ctr":"app","user":"dana.ops","owner":"","osrc":"","reason":"INC-7",'
        '"shell":"bash","tty":"/dev/pts/0","cpid":42,"mode":"wrapper","cfix":""} ' + SIG)
CLOSE = OPEN.replace('"ev":"open"', '"ev":"close"').replace(
    '"cfix":""}', '"cfix":"","fin":"exit","rc":0}').replace('"seq":1,"prev":"-"',
                                                           '"seq":2,"prev":"' + "0" * 32 + '"')
UNSIGNED = OPEN.replace('"kid":"k0e11b71495203fa0","tseq":7', '"kid":"-","tseq":0') \
    .replace(SIG, "unsigned=no-agent")
GONE = ('EXECMARK1 {"v":1,"ev":"exec.gone","ts":"2026-03-02T09:10:00.000Z",'
        '"kid":"k0e11b71495203fa0","tseq":9,"sid":"boot-k0e11b71495203fa0","seq":4,'
        f'"prev":"{"1" * 32}","wsid":"{SID}","wpid":31,"dur":600000}} ' + SIG)
SEEN = GONE.replace('"ev":"exec.gone"', '"ev":"exec.seen"').replace(',"dur":600000', "")
BOOT = ('EXECMARK1 {"v":1,"ev":"boot","ts":"2026-03-02T08:00:00.000Z","kid":"k0e11b71495203fa0",'
        '"tseq":1,"sid":"boot-k0e11b71495203fa0","seq":1,"prev":"-",'
        '"pub":"' + "B" * 43 + '","ver":"0.1.0","pid":1,"host":"ip-10-0-0-1"} ' + SIG)
TRANSCRIPT = f"Script started on 2026-03-02 09:00:00+00:00\nexecmark | banner\n{OPEN}\n# ls\n"


def cloudwatch_matches(pattern, message):
    """CloudWatch Logs filter-pattern semantics for the two forms used here: a %regex%, or
    quoted terms that must all appear (-"term" must not)."""
    if pattern.startswith("%") and pattern.endswith("%"):
        return re.search(pattern[1:-1], message) is not None
    terms = re.findall(r'(-?)"([^"]*)"', pattern)
    assert terms and re.sub(r'-?"[^"]*"', "", pattern).strip() == "", pattern
    return all((term in message) != bool(neg) for neg, term in terms)


def test_terraform_metric_filters_match_the_markers(terraform):
    filters = {name: f["pattern"] for name, f in
               terraform["resource"]["aws_cloudwatch_log_metric_filter"].items()}
    # hcl2json gives the HCL string's value: `\\{` in the file is `\{` here.
    expect = {
        "session_unsigned": {"match": [UNSIGNED], "miss": [OPEN, CLOSE, TRANSCRIPT]},
        "container_unsigned": {"match": [UNSIGNED], "miss": [BOOT, GONE, SEEN]},
        "session_opened": {"match": [OPEN, UNSIGNED, TRANSCRIPT], "miss": [CLOSE, GONE, BOOT]},
        "exec_seen": {"match": [SEEN], "miss": [GONE, BOOT, OPEN]},
        "exec_gone": {"match": [GONE], "miss": [SEEN, BOOT, OPEN]},
    }
    assert set(filters) == set(expect)
    for name, cases in expect.items():
        for line in cases["match"]:
            assert cloudwatch_matches(filters[name], line), (name, line)
        for line in cases["miss"]:
            assert not cloudwatch_matches(filters[name], line), (name, line)


def insights_regexes(query):
    """The /regex/ of each parse and filter-like of a Logs Insights query, as Python regexes."""
    found = re.findall(r"(?:parse @message|like) /(.*?)/(?:\s*$|\s*\|)", query, re.M)
    return [re.compile(r.replace("(?<", "(?P<")) for r in found]


def test_terraform_insights_queries_parse_marker_fields(terraform):
    queries = terraform["resource"]["aws_cloudwatch_query_definition"]
    sessions = insights_regexes(queries["sessions"]["query_string"])
    fields = {}
    for regex in sessions:
        match = regex.search(TRANSCRIPT)
        assert match, regex.pattern
        fields.update(match.groupdict())
    assert fields["sid"] == SID and fields["claim"] == "dana.ops" and fields["reason"] == "INC-7"
    assert fields["mode"] == "wrapper" and fields["signature"] == "ed25519"
    unsigned = insights_regexes(queries["unsigned"]["query_string"])
    assert unsigned[0].search(UNSIGNED) and not unsigned[0].search(OPEN)
    assert unsigned[1].search(UNSIGNED).group("why") == "no-agent"
    seen = insights_regexes(queries["seen_by_pid1"]["query_string"])
    assert seen[1].search(GONE).group("session") == SID
    assert seen[1].search(SEEN).group("ev") == "exec.seen"
    assert seen[2].search(GONE).group("duration_ms") == "600000"
    boot = insights_regexes(queries["boot_keys"]["query_string"])
    assert boot[2].search(BOOT).group("pub") == "B" * 43


# ---------------------------------------------------------------------------------------------
# shellcheck

OWN_SCRIPTS = sorted(SCRIPTS.glob("*.sh")) + [REPO / "docker" / "build-static-arm64.sh"]


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck not installed (Debian: "
                                                           "apt-get install shellcheck)")
def test_scripts_pass_shellcheck():
    assert len(OWN_SCRIPTS) >= 3
    result = subprocess.run(["shellcheck", "-x"] + [str(p) for p in OWN_SCRIPTS],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    # The other docker/ scripts at warning level: they carry info-level notes
    # (SC1091 on /etc/os-release, SC2012 on an ls) that do not affect correctness.
    others = sorted(set((REPO / "docker").glob("*.sh")) - set(OWN_SCRIPTS))
    result = subprocess.run(["shellcheck", "-S", "warning"] + [str(p) for p in others],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# The scripts against a fake `aws`: it records each call (argv as a JSON line) and answers the
# way the AWS CLI v2 does for the options the scripts use.

FAKE_AWS = r'''#!/usr/bin/python3
import json, os, sys, time
args = sys.argv[1:]
with open(os.environ["FAKE_AWS_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
def opt(name, default=None):
    return args[args.index(name) + 1] if name in args else default
# Global options (--region, --profile) may come before the command.
words = list(args)
while words and words[0] in ("--region", "--profile"):
    words = words[2:]
def page(events, token):
    print(json.dumps({"events": events, "nextForwardToken": token,
                      "nextBackwardToken": "b/0"}, indent=4))
cmd = " ".join(words[:2])
fail = os.environ.get("FAKE_AWS_FAIL", "")
if fail and fail == cmd:
    print(f"An error occurred (AccessDenied) when calling {cmd}", file=sys.stderr)
    sys.exit(254)
if cmd == "sts get-caller-identity":
    print("arn:aws:sts::210987654321:assumed-role/PlatformOncall/dana.ops")
elif cmd == "ecs run-task":
    if os.environ.get("FAKE_RUN_TASK_FAILURE"):
        print("None\tRESOURCE:MEMORY")
    else:
        print("arn:aws:ecs:eu-west-1:210987654321:task/prod/9f8e7d6c5b4a\tNone")
elif cmd == "ecs wait":
    pass
elif cmd == "ecs describe-tasks":
    print("RUNNING")
elif cmd == "ecs execute-command":
    time.sleep(float(os.environ.get("FAKE_SESSION_SECONDS", "0")))
    sys.exit(int(os.environ.get("FAKE_SESSION_STATUS", "0")))
elif cmd == "ecs stop-task":
    print("{}")
elif cmd == "logs describe-log-streams":
    print("ecs-execute-command-aaa\tecs-execute-command-bbb")
elif cmd == "logs get-log-events":
    stream, token = opt("--log-stream-name"), opt("--next-token")
    line = {"timestamp": 1772442000000, "ingestionTime": 1772442001000}
    if stream.endswith("aaa") and token is None:
        page([dict(line, message="Script started on 2026-03-02 09:00:00+00:00")], "f/1")
    elif stream.endswith("aaa") and token == "f/1":
        page([dict(line, message='EXECMARK1 {"v":1} unsigned=no-agent\n# exit')], "f/2")
    elif stream.endswith("aaa"):
        page([], "f/2")
    else:
        page([dict(line, message="# ls")], token or "f/9")
elif cmd == "s3api list-objects-v2":
    print("exec-sessions/ecs-execute-command-ccc.log\t2026-03-02T09:30:00+00:00")
    print("exec-sessions/ecs-execute-command-old.log\t2026-02-01T09:30:00+00:00")
    print("exec-sessions/aws-logs-write-test\t2026-03-02T09:30:00+00:00")
elif cmd == "s3 cp":
    with open(words[-1], "w") as out:
        out.write("Script started on 2026-03-02 09:00:00+00:00 [<not executed on terminal>]\n")
elif cmd == "logs filter-log-events":
    print(json.dumps({"events": [{"logStreamName": "ecs/app/9f8e7d6c5b4a",
                                  "timestamp": 1772440000000,
                                  "message": 'EXECMARK1 {"v":1} unsigned=no-key'}],
                      "searchedLogStreams": []}, indent=4))
elif cmd == "cloudtrail lookup-events":
    print(json.dumps({"Events": []}, indent=4))
else:
    print(f"fake aws: unexpected call {args}", file=sys.stderr)
    sys.exit(252)
'''

FAKE_EXECMARK = r'''#!/usr/bin/python3
import json, os, sys
with open(os.environ["FAKE_EXECMARK_LOG"], "w") as log:
    json.dump(sys.argv[1:], log)
sys.exit(int(os.environ.get("FAKE_AUDIT_STATUS", "1")))
'''


class FakeAws:
    def __init__(self, tmp_path, plugin=True):
        self.dir = tmp_path / "fakebin"
        self.dir.mkdir()
        self.log = tmp_path / "aws-calls.jsonl"
        for name, text in (("aws", FAKE_AWS), ("execmark", FAKE_EXECMARK)):
            (self.dir / name).write_text(text)
            (self.dir / name).chmod(0o755)
        if plugin:
            write_stub(self.dir / "session-manager-plugin", "exit 0\n")
        self.env = dict(os.environ, PATH=f"{self.dir}:/usr/bin:/bin", FAKE_AWS_LOG=str(self.log),
                        FAKE_EXECMARK_LOG=str(tmp_path / "execmark-call.json"))

    def calls(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    @staticmethod
    def command_of(call):
        """The service and operation of a call (global options may come first)."""
        words = list(call)
        while words and words[0] in ("--region", "--profile"):
            words = words[2:]
        return " ".join(words[:2])

    def commands(self):
        return [self.command_of(c) for c in self.calls()]

    def call(self, command):
        found = [c for c in self.calls() if self.command_of(c) == command]
        assert len(found) == 1, (command, self.commands())
        return found[0]


def value(call, option):
    return call[call.index(option) + 1]


EXEC_SESSION = [str(SCRIPTS / "exec-session.sh"), "--cluster", "prod", "--task-definition",
                "payments-api", "--subnets", "subnet-0a1b,subnet-2c3d", "--security-groups",
                "sg-0a1b", "--reason", "INC-7 disk full", "--region", "eu-west-1"]
TASK = "arn:aws:ecs:eu-west-1:210987654321:task/prod/9f8e7d6c5b4a"
CALLER = "arn:aws:sts::210987654321:assumed-role/PlatformOncall/dana.ops"


def run_script(argv, fake, extra_env=None, timeout=30):
    env = dict(fake.env, **(extra_env or {}))
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def test_exec_session_runs_waits_opens_and_stops(tmp_path):
    fake = FakeAws(tmp_path)
    result = run_script(EXEC_SESSION, fake, {"FAKE_SESSION_STATUS": "3"})
    assert result.returncode == 3, result.stderr  # the session's status
    assert fake.commands() == ["sts get-caller-identity", "ecs run-task", "ecs wait",
                               "ecs describe-tasks", "ecs execute-command", "ecs stop-task"]
    run = fake.call("ecs run-task")
    assert "--enable-execute-command" in run
    assert value(run, "--cluster") == "prod" and value(run, "--task-definition") == "payments-api"
    assert json.loads(value(run, "--overrides")) == {"containerOverrides": [{
        "name": "app", "environment": [{"name": "AWS_USER", "value": "dana.ops"}]}]}
    assert json.loads(value(run, "--tags")) == [{"key": "Owner", "value": CALLER}]
    assert value(run, "--network-configuration") == (
        "awsvpcConfiguration={subnets=[subnet-0a1b,subnet-2c3d],assignPublicIp=DISABLED,"
        "securityGroups=[sg-0a1b]}")
    wait = fake.call("ecs wait")
    assert "tasks-running" in wait and value(wait, "--tasks") == TASK
    session = fake.call("ecs execute-command")
    assert "--interactive" in session
    assert value(session, "--task") == TASK and value(session, "--container") == "app"
    assert value(session, "--command") == \
        "/usr/local/bin/execmark shell --reason 'INC-7 disk full' -- /bin/sh"
    stop = fake.call("ecs stop-task")
    assert value(stop, "--task") == TASK and value(stop, "--cluster") == "prod"
    for call in fake.calls():
        assert value(call, "--region") == "eu-west-1", call


def test_exec_session_stops_the_task_when_the_terminal_hangs_up(tmp_path):
    fake = FakeAws(tmp_path)
    env = dict(fake.env, FAKE_SESSION_SECONDS="30")
    proc = subprocess.Popen(EXEC_SESSION, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while "ecs execute-command" not in fake.commands():
            assert time.monotonic() < deadline and proc.poll() is None, fake.commands()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGHUP)  # what closing the operator's terminal does
        assert proc.wait(timeout=15) == 129, proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert fake.commands()[-1] == "ecs stop-task"
    assert value(fake.call("ecs stop-task"), "--task") == TASK


def test_exec_session_reports_a_task_that_did_not_start(tmp_path):
    fake = FakeAws(tmp_path)
    result = run_script(EXEC_SESSION, fake, {"FAKE_RUN_TASK_FAILURE": "1"})
    assert result.returncode == 1
    assert "RESOURCE:MEMORY" in result.stderr
    assert fake.commands() == ["sts get-caller-identity", "ecs run-task"]


def test_exec_session_without_login_touches_nothing(tmp_path):
    fake = FakeAws(tmp_path)
    result = run_script(EXEC_SESSION, fake, {"FAKE_AWS_FAIL": "sts get-caller-identity"})
    assert result.returncode == 1
    assert "get-caller-identity failed" in result.stderr
    assert fake.commands() == ["sts get-caller-identity"]


@pytest.mark.parametrize("argv, message", [
    (EXEC_SESSION[:1], "missing --cluster --task-definition --subnets --reason"),
    (EXEC_SESSION + ["--bogus"], "unknown argument: --bogus"),
    (EXEC_SESSION + ["--container"], "--container needs a value"),
    (EXEC_SESSION[:-4] + ["--reason", "it's broken"], "--reason"),
    (EXEC_SESSION + ["--shell", "bash"], "not an absolute path: bash"),
    (EXEC_SESSION + ["--subnets", "subnet-1 subnet-2"], "--subnets"),
    (EXEC_SESSION + ["--launch-type", "LAMBDA"], "--launch-type"),
])
def test_exec_session_usage_errors_make_no_calls(tmp_path, argv, message):
    fake = FakeAws(tmp_path)
    result = run_script(argv, fake)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert fake.calls() == []


def test_exec_session_needs_the_session_manager_plugin(tmp_path):
    fake = FakeAws(tmp_path, plugin=False)
    result = run_script(EXEC_SESSION, fake)
    assert result.returncode == 1 and "Session Manager plugin" in result.stderr
    assert fake.calls() == []


def test_exec_session_help():
    result = subprocess.run([str(SCRIPTS / "exec-session.sh"), "--help"], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("Usage: exec-session.sh")


FETCH = [str(SCRIPTS / "fetch-audit.sh"), "--from", "2026-03-02T00:00:00Z",
         "--to", "2026-03-03T00:00:00Z", "--exec-log-group", "/ecs/prod/exec-sessions",
         "--s3", "s3://exec-logs/exec-sessions/", "--container-log-group", "/ecs/prod/app",
         "--container-stream-prefix", "ecs/app/", "--profile", "audit"]


def test_fetch_audit_fetches_everything_and_runs_audit(tmp_path):
    fake = FakeAws(tmp_path)
    out = tmp_path / "out"
    result = run_script(FETCH + ["--out", str(out), "--execmark", str(fake.dir / "execmark")],
                        fake)
    assert result.returncode == 1, result.stderr  # execmark audit's status (findings)
    commands = fake.commands()
    assert commands[0] == "logs describe-log-streams"
    # Until the token comes back unchanged: aaa has 2 pages (3 calls), bbb 1 (2 calls).
    assert commands.count("logs get-log-events") == 3 + 2
    assert commands.count("s3 cp") == 1
    for call in fake.calls():
        assert value(call, "--profile") == "audit"

    describe = fake.call("logs describe-log-streams")
    assert value(describe, "--log-group-name") == "/ecs/prod/exec-sessions"
    assert "1772409600000" in value(describe, "--query")  # --from in ms
    pages = [c for c in fake.calls() if FakeAws.command_of(c) == "logs get-log-events"
             and value(c, "--log-stream-name") == "ecs-execute-command-aaa"]
    assert [("--next-token" in c and value(c, "--next-token")) for c in pages] == \
        [False, "f/1", "f/2"]
    assert all("--start-from-head" in c for c in pages)
    aaa = (out / "sessions/cloudwatch/ecs-execute-command-aaa.json").read_text()
    assert aaa.count('"nextForwardToken"') == 3 and "unsigned=no-agent" in aaa
    assert (out / "sessions/cloudwatch/ecs-execute-command-bbb.json").exists()

    copy = fake.call("s3 cp")
    assert copy[-2] == "s3://exec-logs/exec-sessions/ecs-execute-command-ccc.log"
    assert sorted(p.name for p in (out / "sessions/s3").iterdir()) == \
        ["ecs-execute-command-ccc.log"]  # the old one and the write test are left out
    assert value(fake.call("s3api list-objects-v2"), "--prefix") == "exec-sessions/"

    container = fake.call("logs filter-log-events")
    assert value(container, "--log-group-name") == "/ecs/prod/app"
    assert value(container, "--filter-pattern") == '"EXECMARK1"'
    assert value(container, "--log-stream-name-prefix") == "ecs/app/"
    assert (out / "container/container-log.json").exists()

    lookups = {value(c, "--lookup-attributes"): c for c in fake.calls()
               if FakeAws.command_of(c) == "cloudtrail lookup-events"}
    exec_lookup = lookups["AttributeKey=EventName,AttributeValue=ExecuteCommand"]
    assert value(exec_lookup, "--start-time") == "2026-03-02T00:00:00Z"
    assert value(exec_lookup, "--end-time") == "2026-03-03T00:00:00Z"
    run_lookup = lookups["AttributeKey=EventName,AttributeValue=RunTask"]
    assert value(run_lookup, "--start-time") == "2026-03-01T00:00:00Z"

    audit = json.loads((tmp_path / "execmark-call.json").read_text())
    assert audit == ["audit", "--cloudtrail", f"{out}/cloudtrail/execute-command.json",
                     "--cloudtrail", f"{out}/cloudtrail/run-task.json",
                     "--container-log", f"{out}/container", f"{out}/sessions"]


def test_fetch_audit_output_is_read_by_the_real_auditor(tmp_path):
    # The files as fetched (paged get-log-events documents concatenated, S3 transcripts, the
    # container log, lookup-events output) are inputs execmark audit reads: status 1 (findings:
    # unsigned markers, sessions without CloudTrail events), never 3 (unreadable input).
    binary = os.environ.get("EXECMARK_BIN", "")
    if not binary or not os.path.exists(binary):
        pytest.skip("EXECMARK_BIN not set")
    fake = FakeAws(tmp_path)
    out = tmp_path / "out"
    result = run_script(FETCH + ["--out", str(out), "--execmark", binary, "--json"], fake)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    sessions = {r["session"]: r for r in rows if r["type"] == "session"}
    assert set(sessions) == {"ecs-execute-command-aaa", "ecs-execute-command-bbb",
                             "ecs-execute-command-ccc"}
    assert "UNSIGNED" in sessions["ecs-execute-command-aaa"]["statuses"]
    summary = [r for r in rows if r["type"] == "summary"][0]
    assert summary["input_errors"] in (0, []), summary


@pytest.mark.parametrize("argv, message", [
    (FETCH[:1], "missing --from"),
    (FETCH[:5], "missing --container-log-group"),
    ([FETCH[0], "--from", "2026-03-02", "--container-log-group", "/g"], "--exec-log-group, --s3"),
    (FETCH + ["--to", "2026-03-01T00:00:00Z"], "--from must be before --to"),
    (FETCH + ["--from", "not a time"], "cannot read the time"),
    (FETCH + ["--s3", "bucket/prefix"], "--s3: s3://BUCKET/PREFIX"),
    (FETCH + ["--exec-log-group", "bad group"], "not a log group name"),
    (FETCH + ["--task-window-hours", "x"], "--task-window-hours"),
])
def test_fetch_audit_usage_errors_make_no_calls(tmp_path, argv, message):
    fake = FakeAws(tmp_path)
    result = run_script(argv + ["--out", str(tmp_path / "out")], fake)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert fake.calls() == []


def test_fetch_audit_refuses_a_used_directory_and_stops_on_a_failed_fetch(tmp_path):
    fake = FakeAws(tmp_path)
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.json").write_text("{}")
    result = run_script(FETCH + ["--out", str(used), "--fetch-only"], fake)
    assert result.returncode == 2 and "not empty" in result.stderr
    result = run_script(FETCH + ["--out", str(tmp_path / "new"), "--fetch-only"], fake,
                        {"FAKE_AWS_FAIL": "cloudtrail lookup-events"})
    assert result.returncode == 1 and "lookup-events ExecuteCommand failed" in result.stderr
    assert not (tmp_path / "execmark-call.json").exists()
