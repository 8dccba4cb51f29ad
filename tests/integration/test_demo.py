# SPDX-License-Identifier: MIT
"""The end-to-end demo story (examples/demo/story.py) gives the statuses it promises.

Contract: with the binary under test, the story — a task with execmark as PID 1 and a local
metadata endpoint, a hooked bash session, a wrapper-mode session in someone else's task, a
`bash --norc` bypass, all through the SSM agent stand-in, SSM-made transcripts and CloudTrail events — ends with `execmark audit`
reporting ATTRIBUTED, MISMATCH and BYPASSED for the three sessions, and exit status 1.
"""
import os
import subprocess
import sys

import pytest

BIN = os.environ.get("EXECMARK_BIN", "")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ssm_agent import AGENT_BUILD_DIR, CLIENT, missing  # noqa: E402

pytestmark = [
    pytest.mark.skipif(not BIN, reason="EXECMARK_BIN not set"),
    pytest.mark.skipif(bool(missing()), reason=f"SSM agent stand-in: {missing()}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="PID and mount namespaces need root"),
]


def test_demo_story_reports_each_status(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(REPO, "examples", "demo", "story.py"),
                          "--bin", BIN, "--agent-dir", AGENT_BUILD_DIR, "--client", CLIENT,
                          "--work", str(tmp_path)],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rows = {line.split()[0]: line.split()[-1] for line in out.stdout.splitlines()
            if line.startswith("ecs-execute-command-")}
    assert rows == {
        "ecs-execute-command-0a11ce5e551011a2b": "ATTRIBUTED",
        "ecs-execute-command-0b0b5e5510112c3d4": "MISMATCH",
        "ecs-execute-command-0ma11054e55107e5f": "BYPASSED",
    }, out.stdout
    assert "exit status 1" in out.stdout
    # The hooked session's transcript (as uploaded) carries a banner and a signed open marker.
    transcript = (tmp_path / "s3" / "exec-logs" / "ecs-execute-command-0a11ce5e551011a2b.log")
    text = transcript.read_text(errors="replace")
    assert "execmark | ECS Exec session ecs-execute-command-0a11ce5e551011a2b" in text
    assert text.count("EXECMARK1 ") == 2
