# SPDX-License-Identifier: MIT
"""Benchmarks of the session recorder (`execmark shell`), driven by recorder_bench.sh.

usage: recorder_bench.py EXECMARK PART...   (PART: throughput latency start logbytes load)

Every recorded session is opened through the SSM agent stand-in (tests/integration/ssm_agent.py,
`Task`): PID 1 (`execmark init` in its own PID namespace) accepts a recorder only when it is the
session's command under the stand-in's ssm-session-worker. The peers of each part run in the
same task, interleaved with the recorded runs, so the machine's load hits them alike. Prints
Markdown. Knobs (environment): see recorder_bench.sh.
"""
import fcntl
import os
import pathlib
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from pid1 import markers_in  # noqa: E402
from ssm_agent import Task, _children, missing  # noqa: E402

PROMPT = b"PROMPT> "
USER = "bench@example.com"


def knob(name, default):
    return type(default)(os.environ.get(name, default))


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def sid_of(n):
    return f"ecs-execute-command-0bench{n:012x}"


class Counter:
    n = 0

    @classmethod
    def next(cls):
        cls.n += 1
        return sid_of(cls.n)


# -- an outer terminal: a pty whose master this process reads as fast as it can


class Outer:
    """argv on a new pty (its controlling terminal, a new session), cooked like a fresh terminal,
    200x40; the master is here."""

    def __init__(self, argv, env=None, size=(40, 200)):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, preexec_fn=ctty, close_fds=True)
        os.close(slave)
        self.buf = b""

    def drain(self, keep=False):
        """Reads until the pty is gone (EIO); returns (bytes, seconds since start)."""
        total = 0
        while True:
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            total += len(chunk)
            if keep:
                self.buf += chunk
        elapsed = time.perf_counter() - self.started
        self.proc.wait()
        os.close(self.master)
        return total, elapsed

    def expect(self, text, timeout=20):
        """Reads until text has arrived since the last expect; returns the time it arrived."""
        deadline = time.monotonic() + timeout
        while text not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                raise TimeoutError(f"{text!r} not seen; got {self.buf[-400:]!r}")
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:
                raise TimeoutError(f"pty closed before {text!r}; got {self.buf[-400:]!r}")
            self.buf += chunk
        at = time.perf_counter()
        self.buf = self.buf[self.buf.index(text) + len(text):]
        return at

    def send(self, data):
        os.write(self.master, data)

    def close(self):
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.drain()


def session_argv(task, sid, command, logging=False):
    return task.client_argv(sid, command, logging=logging, size=(40, 200))


# -- the task


def make_task(em, tmp, child=("sleep", "3600"), home=None):
    os.makedirs(tmp, exist_ok=True)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home or "/root", "LANG": "C.UTF-8",
           "AWS_USER": USER, "PS1": PROMPT.decode(), "EXECMARK_BIN_PATH": em}
    return Task(pathlib.Path(tmp), child=child, binary=em, container_env=env,
                watch_interval=os.environ.get("BENCH_WATCH_INTERVAL", "2"))


def recs(task, sid):
    return [m for m in markers_in(task.container_log()) if m["ev"] == "rec" and m["ssid"] == sid]


def rec_lines(task, sid):
    """The container-log lines of sid's rec markers (bytes, newline included)."""
    out = []
    for line in task.container_log().splitlines(keepends=True):
        if b'"ev":"rec"' in line and sid.encode() in line:
            out.append(line)
    return out


def wait_end(task, sid, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(m["kind"] == "end" for m in recs(task, sid)):
            return True
        time.sleep(0.05)
    return False


def require_recorded(task, sid, what):
    rs = recs(task, sid)
    if not rs or rs[0]["kind"] != "start":
        sys.exit(f"recorder_bench: {what}: session {sid} was not recorded (no rec start)")


# -- 1. throughput


def make_text_file(path, size):
    """size bytes of printable text in 77-byte lines (base64 of random bytes)."""
    with open(path, "wb") as f:
        subprocess.run(f"head -c {size * 3 // 4 + 4096} /dev/urandom | base64 -w 76 "
                       f"| head -c {size}", shell=True, stdout=f, check=True)


def part_throughput(em, tmp):
    size = knob("BENCH_BYTES", 256 << 20)
    runs = knob("BENCH_TPUT_RUNS", 3)
    data = os.path.join(tmp, "text.txt")
    make_text_file(data, size)
    cat = f"sh -c 'cat {data}'"
    task = make_task(em, os.path.join(tmp, "tput"))
    none = os.path.join(tmp, "no-agent.sock")
    variants = {
        "stand-in session: no recorder (`sh -c 'cat F'`)": ("ssm", cat),
        "stand-in session: util-linux `script -q -c 'cat F' /dev/null`":
            ("ssm", f"script -q -c 'cat {data}' /dev/null"),
        "stand-in session: recorder (`execmark shell -- sh -c 'cat F'`, recorded)":
            ("ssm", f"{em} shell -- {cat}"),
        "direct: no recorder (`sh -c 'cat F'`)": ("direct", ["sh", "-c", f"cat {data}"]),
        "direct: util-linux `script -q -c 'cat F' /dev/null`":
            ("direct", ["script", "-q", "-c", f"cat {data}", "/dev/null"]),
        "direct: `execmark shell -- sh -c 'cat F'`, no PID 1 (not recorded)":
            ("direct", [em, "shell", "--", "sh", "-c", f"cat {data}"]),
    }
    times = {k: [] for k in variants}
    got = {k: [] for k in variants}
    loads = [loadavg()]
    names = list(variants)
    for r in range(runs):
        order = names if r % 2 == 0 else list(reversed(names))
        for name in order:
            kind, cmd = variants[name]
            if kind == "ssm":
                sid = Counter.next()
                o = Outer(session_argv(task, sid, cmd))
            else:
                env = dict(os.environ, EXECMARK_SOCKET=none, AWS_USER=USER)
                o = Outer(cmd, env=env)
            n, t = o.drain()
            if o.proc.returncode != 0:
                sys.exit(f"recorder_bench: throughput: {name} exited {o.proc.returncode}")
            if "recorded" in name and "not recorded" not in name:
                require_recorded(task, sid, name)
            times[name].append(t)
            got[name].append(n)
        loads.append(loadavg())
    task.stop()
    print("### Throughput: `cat` of a text file to the terminal")
    print()
    print(f"{size} bytes of base64 text (77-byte lines), page cache warm, {runs} runs of each "
          "variant interleaved (order reversed every run). \"stand-in\": the session's command "
          "under the SSM agent stand-in (`ssm-session-client` on a pty this benchmark drains, "
          "`--no-logging`); \"direct\": the command itself on that pty. Bytes per run counted on "
          "the outer pty (ONLCR: each LF arrives as CRLF). Load average during the runs: "
          f"{' → '.join(loads)}.")
    print()
    print("| variant | fastest s | median s | MB/s (median) | bytes at the outer pty |")
    print("|---|---:|---:|---:|---:|")
    med = {}
    for name in names:
        med[name] = statistics.median(times[name])
        print(f"| {name} | {min(times[name]):.3f} | {med[name]:.3f} | "
              f"{size / med[name] / 1e6:.0f} | {max(got[name])} |")
    print()
    s_rec = "stand-in session: recorder (`execmark shell -- sh -c 'cat F'`, recorded)"
    s_scr = "stand-in session: util-linux `script -q -c 'cat F' /dev/null`"
    s_none = "stand-in session: no recorder (`sh -c 'cat F'`)"
    print(f"Throughput ratio recorder / script (stand-in, medians): "
          f"**{med[s_scr] / med[s_rec]:.2f}** (fastest: "
          f"{min(times[s_scr]) / min(times[s_rec]):.2f}); recorder / no recorder: "
          f"{med[s_none] / med[s_rec]:.2f}; script / no recorder: {med[s_none] / med[s_scr]:.2f}.")
    print()


# -- 2. keystroke-to-echo latency


def part_latency(em, tmp):
    samples = knob("BENCH_KEYS", 2000)
    task = make_task(em, os.path.join(tmp, "lat"))
    shell = "/bin/bash --norc --noprofile -i"
    sessions = {}
    sids = {}
    for name, cmd in (("bash, no recorder", shell),
                      ("bash under the recorder", f"{em} shell -- {shell}")):
        sids[name] = Counter.next()
        s = Outer(session_argv(task, sids[name], cmd))
        s.expect(PROMPT)
        sessions[name] = s
    require_recorded(task, sids["bash under the recorder"], "latency")
    lat = {k: [] for k in sessions}
    loads = [loadavg()]
    names = list(sessions)
    for i in range(samples):
        for name in (names if i % 2 == 0 else names[::-1]):
            s = sessions[name]
            t0 = time.perf_counter()
            s.send(b"x")
            t1 = s.expect(b"x", timeout=10)
            lat[name].append((t1 - t0) * 1000)
            if i % 40 == 39:
                s.send(b"\x15")  # Ctrl-U: kill the line, keep it short
                time.sleep(0.005)
                s.buf = b""
                while select.select([s.master], [], [], 0.02)[0]:
                    os.read(s.master, 1 << 16)
        if i % 500 == 499:
            loads.append(loadavg())
    for name, s in sessions.items():
        s.send(b"\x15exit\r")
        s.drain()
    task.stop()
    print("### Keystroke to echo")
    print()
    print(f"Interactive bash (`--norc -i`, readline echoes) in two stand-in sessions open at once, "
          f"one under the recorder; {samples} keystrokes each, alternating between the two: the "
          "time from writing `x` to the client's pty until its echo is read back there (client → "
          "stand-in worker → [recorder →] bash and back). Load average: "
          f"{' → '.join(loads)}.")
    print()
    print("| session | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for name in names:
        v = lat[name]
        print(f"| {name} | {pct(v, 50):.3f} | {pct(v, 90):.3f} | {pct(v, 99):.3f} | "
              f"{max(v):.3f} |")
    a, b = lat[names[0]], lat[names[1]]
    print()
    print(f"Added by the recorder: p50 {pct(b, 50) - pct(a, 50):+.3f} ms, "
          f"p99 {pct(b, 99) - pct(a, 99):+.3f} ms (target: p99 ≤ 1 ms added).")
    print()


# -- 3. hook-mode shell start


def part_start(em, tmp):
    runs = knob("BENCH_START_RUNS", 40)
    hook = os.path.join(tmp, "hook.sh")
    with open(hook, "w") as f:
        subprocess.run([em, "hook", "print", "bash"], stdout=f, check=True)
    homes = {}
    # The floor of any recorder the rc file starts: a second bash (the rc execs bash again), and
    # that plus one process started and waited for first (/bin/true): what the recorded hook does
    # besides the recorder's own work (one process, the shell again).
    again = "[ -n \"${BENCH_AGAIN-}\" ] || { %sBENCH_AGAIN=1 exec bash -i; }\n"
    for name, rc in (("plain", "PS1='PROMPT> '\n"),
                     ("hook", f"PS1='PROMPT> '\n. {hook}\n"),
                     ("again", "PS1='PROMPT> '\n" + again % ""),
                     ("true-again", "PS1='PROMPT> '\n" + again % "/bin/true; ")):
        homes[name] = os.path.join(tmp, "home-" + name)
        os.makedirs(homes[name])
        with open(os.path.join(homes[name], ".bashrc"), "w") as f:
            f.write(rc)
    task = make_task(em, os.path.join(tmp, "start"))
    none = os.path.join(tmp, "no-agent.sock")
    variants = {
        "`bash -i`, no hook": f"env HOME={homes['plain']} bash -i",
        "`bash -i`, hook, recorded (hook execs `execmark shell --mode hook`)":
            f"env HOME={homes['hook']} bash -i",
        "`bash -i`, hook, not recorded (`EXECMARK_RECORD=1`: the hook's `session open`)":
            f"env HOME={homes['hook']} EXECMARK_RECORD=1 bash -i",
        "`bash -i`, hook, no agent (socket missing: recorder falls back, unsigned open)":
            f"env HOME={homes['hook']} EXECMARK_SOCKET={none} bash -i",
        "floor: `bash -i` whose rc execs `bash -i` again (no execmark)":
            f"env HOME={homes['again']} bash -i",
        "floor: the same after running `/bin/true` (one process more, no execmark)":
            f"env HOME={homes['true-again']} bash -i",
    }
    names = list(variants)
    up = {k: [] for k in names}
    down = {k: [] for k in names}
    loads = [loadavg()]
    for r in range(runs):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            sid = Counter.next()
            o = Outer(session_argv(task, sid, variants[name]))
            t_prompt = o.expect(PROMPT)
            up[name].append((t_prompt - o.started) * 1000)
            t0 = time.perf_counter()
            o.send(b"exit\r")
            o.drain()
            down[name].append((time.perf_counter() - t0) * 1000)
            if r == 0 and "recorded" in name and "not recorded" not in name:
                require_recorded(task, sid, name)
        if r % 10 == 9:
            loads.append(loadavg())
    task.stop()
    print("### Hook-mode shell start")
    print()
    print("A stand-in session running `bash -i` whose `~/.bashrc` sets the prompt and (hook "
          "variants) sources `execmark hook print bash`, as an image's bash.bashrc does. "
          "\"start\": from starting `ssm-session-client` (on a pty this benchmark reads) to the "
          "first prompt on it; \"exit\": from typing `exit` to the client's end (with the hook: "
          "the close). The two \"floor\" variants run no execmark: they show what starting "
          "the shell again under anything the rc file starts costs on this machine (a second "
          "bash, and one process more), which the recorded hook cannot go below. "
          f"{runs} sessions of each variant, interleaved (rotating order). Load "
          f"average: {' → '.join(loads)}.")
    print()
    print("| variant | start median ms | start p90 ms | minus no hook ms | exit median ms |")
    print("|---|---:|---:|---:|---:|")
    base = statistics.median(up[names[0]])
    for name in names:
        m = statistics.median(up[name])
        print(f"| {name} | {m:.1f} | {pct(up[name], 90):.1f} | {m - base:+.1f} | "
              f"{statistics.median(down[name]):.1f} |")
    print()


# -- 4. container-log bytes per session-minute


def part_logbytes(em, tmp):
    typing_s = knob("BENCH_TYPING_SECONDS", 60)
    flood_s = knob("BENCH_FLOOD_SECONDS", 30)
    task = make_task(em, os.path.join(tmp, "logbytes"))
    rows = []
    loads = [loadavg()]
    # Typing: a command every 2 s with one short line of output.
    sid = Counter.next()
    o = Outer(session_argv(task, sid, f"{em} shell -- /bin/bash --norc --noprofile -i"))
    o.expect(PROMPT)
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < typing_s:
        n += 1
        o.send(f"echo line {n}\r".encode())
        o.expect(f"line {n}\r\n".encode())
        o.expect(PROMPT)
        time.sleep(max(0.0, t0 + 2 * n - time.monotonic()))
    o.send(b"exit\r")
    o.drain()
    wait_end(task, sid)
    rows.append((f"typing: `echo line N` every 2 s, {n} commands", sid, typing_s))
    loads.append(loadavg())
    # Flood: `yes` at full speed for flood_s seconds.
    sid = Counter.next()
    log_before = len(task.container_log())
    o = Outer(session_argv(task, sid, f"{em} shell -- timeout {flood_s} yes"))
    shown, _ = o.drain()
    wait_end(task, sid)
    rows.append((f"flood: `timeout {flood_s} yes` ({shown / 1e6:.0f} MB shown)", sid, flood_s))
    flood_log = len(task.container_log()) - log_before
    loads.append(loadavg())
    task.stop()
    print("### Container-log bytes per session-minute")
    print()
    print("One recorded session (`execmark shell -- bash` / `-- timeout N yes`) through the "
          "stand-in; the `rec` marker lines PID 1 wrote for it into the container log (start and "
          f"end included). Load average: {' → '.join(loads)}.")
    print()
    print("| session | seconds | rec markers (by kind) | bytes | bytes per minute | "
          "mean bytes per marker |")
    print("|---|---:|---|---:|---:|---:|")
    for what, sid, secs in rows:
        lines = rec_lines(task, sid)
        kinds = {}
        for m in recs(task, sid):
            kinds[m["kind"]] = kinds.get(m["kind"], 0) + 1
        total = sum(len(x) for x in lines)
        desc = ", ".join(f"{k} {v}" for k, v in kinds.items())
        print(f"| {what} | {secs} | {len(lines)} ({desc}) | {total} | {total * 60 / secs:.0f} | "
              f"{total / max(1, len(lines)):.0f} |")
    print()
    print(f"Container log growth during the flood session, all lines: {flood_log} bytes.")
    print()


# -- 5. PID 1's CPU and the application's throughput with 20 streaming sessions

APP = r"""
import hashlib, sys, time
buf = b"x" * 65536
out = open(sys.argv[1], "w", buffering=1)
n = 0
nxt = time.monotonic()
while True:
    hashlib.sha256(buf).digest()
    n += 1
    if n % 16 == 0:
        now = time.monotonic()
        if now >= nxt:
            out.write(f"{now} {n}\n")
            nxt = now + 0.1
"""


def app_count(path):
    with open(path, "rb") as f:
        try:
            f.seek(-200, os.SEEK_END)
        except OSError:
            f.seek(0)
        line = f.read().splitlines()[-1].split()
    return float(line[0]), int(line[1])


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    comm = s[s.index("(") + 1:s.rindex(")")]
    return comm, int(fields[11]) + int(fields[12])


def tree(root):
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def pin_tree(pid, cpus):
    """Every thread of pid and of its descendants onto cpus (new children inherit it)."""
    for p in tree(pid):
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass  # gone meanwhile


def part_load_pinned(em, tmp):
    part_load(em, tmp, pinned=True)


def part_load(em, tmp, pinned=False):
    nsess = knob("BENCH_SESSIONS", 20)
    phase_s = knob("BENCH_PHASE_SECONDS", 15)
    rounds = knob("BENCH_LOAD_ROUNDS", 1)
    hz = os.sysconf("SC_CLK_TCK")
    counts = os.path.join(tmp, "app-counts")
    app = os.path.join(tmp, "app.py")
    with open(app, "w") as f:
        f.write(APP)
    task = make_task(em, os.path.join(tmp, "load"), child=("python3", app, counts))
    app_pid = None
    deadline = time.monotonic() + 10
    while app_pid is None and time.monotonic() < deadline:
        kids = _children(task.init_pid)
        app_pid = kids[0] if kids else None
        time.sleep(0.05)
    while not os.path.exists(counts) or os.path.getsize(counts) == 0:
        time.sleep(0.05)
    app_cpus, session_cpus = None, None
    if pinned:
        # PID 1 and the application on one core, everything of the sessions (the stand-in agent,
        # its workers, the recorders, `yes`, the clients) on the other: what the application
        # loses is then PID 1's own work for the sessions (and what the cores share), not the
        # sessions' CPU.
        if os.cpu_count() < 2:
            sys.exit("recorder_bench: load-pinned needs 2 cores")
        app_cpus, session_cpus = {0}, {1}
        pin_tree(task.init_pid, app_cpus)
        pin_tree(task.agent.pid, session_cpus)
    time.sleep(1)

    def phase(kind):
        clients = []
        sids = []
        if kind != "idle":
            cmd = "yes" if kind == "plain" else f"{em} shell -- yes"
            for _ in range(nsess):
                sid = Counter.next()
                sids.append(sid)
                clients.append(subprocess.Popen(
                    session_argv(task, sid, cmd), stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    preexec_fn=(lambda: os.sched_setaffinity(0, session_cpus)) if pinned
                    else None))
            time.sleep(2)  # all started and streaming
        others = set(tree(task.init_pid)) | set(tree(task.agent.pid)) | {c.pid for c in clients}
        others -= {task.init_pid, app_pid}
        snap0 = {p: cpu_ticks(p) for p in others}
        p1_0 = cpu_ticks(task.init_pid)[1]
        app0 = cpu_ticks(app_pid)[1]
        with open("/proc/stat") as f:
            busy0 = [int(x) for x in f.readline().split()[1:]]
        t0, n0 = app_count(counts)
        time.sleep(phase_s)
        t1, n1 = app_count(counts)
        with open("/proc/stat") as f:
            busy1 = [int(x) for x in f.readline().split()[1:]]
        p1_1 = cpu_ticks(task.init_pid)[1]
        app1 = cpu_ticks(app_pid)[1]
        others = set(tree(task.init_pid)) | set(tree(task.agent.pid)) | {c.pid for c in clients}
        others -= {task.init_pid, app_pid}
        by_comm = {}
        for p in others:
            now = cpu_ticks(p)
            if now is None:
                continue
            before = snap0.get(p)
            d = now[1] - (before[1] if before and before[0] == now[0] else 0)
            by_comm[now[0]] = by_comm.get(now[0], 0) + d
        for c in clients:
            c.kill()
        for c in clients:
            c.wait()
        # Wait for the sessions to end (the worker hangs the pty up).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            left = [p for p in tree(task.agent.pid)
                    if (cpu_ticks(p) or ("", 0))[0] == "ssm-session-wor"]
            if not left:
                break
            time.sleep(0.1)
        rec_ok = None
        if kind == "recorded":
            rec_ok = sum(1 for s in sids if recs(task, s) and recs(task, s)[0]["kind"] == "start")
        wall = t1 - t0
        total = sum(busy1[i] - busy0[i] for i in range(len(busy0)))
        idle = (busy1[3] + busy1[4]) - (busy0[3] + busy0[4])
        return {
            "kind": kind,
            "rate": (n1 - n0) / wall,
            "pid1": (p1_1 - p1_0) / hz,
            "app_cpu": (app1 - app0) / hz,
            "sessions": by_comm,
            "wall": wall,
            "machine_busy": (total - idle) / max(1, total),
            "recorded": rec_ok,
            "load": loadavg(),
        }

    results = []
    for r in range(rounds):
        order = ["idle", "recorded", "plain", "idle"] if r % 2 == 0 else \
            ["idle", "plain", "recorded", "idle"]
        for kind in order:
            results.append(phase(kind))
    task.stop()
    print(f"### PID 1 and the application with {nsess} sessions streaming"
          + (": sessions pinned to the other core" if pinned else ""))
    print()
    if pinned:
        print("PID 1 (every thread) and the application pinned to CPU 0; the stand-in agent, "
              "everything it starts (workers, recorders, `yes`) and the clients pinned to CPU 1 "
              "(`sched_setaffinity`). The application's loss is PID 1's work for the sessions "
              "(accepting reports, signing, writing the container log) plus what the two cores "
              "share (caches, memory bandwidth), not the sessions' own CPU.")
        print()
    print("PID 1 supervises the application, a CPU-bound Python loop (SHA-256 of 64 KiB, "
          "iterations counted). Phases of "
          f"{phase_s} s, in the order shown: nothing else (idle), {nsess} stand-in sessions each "
          f"running `execmark shell -- yes` (recorded), {nsess} sessions running `yes` (no "
          "recorder); each session's client writes to /dev/null (the stand-in worker's pty is the "
          "terminal the recorder relays to). CPU from /proc/PID/stat (utime+stime, all threads) "
          "over the phase; \"session processes\": every process of the sessions (agent, "
          "workers, recorders, `yes`, clients) grouped by name.")
    print()
    print("| phase | app iterations/s | vs first idle | PID 1 CPU s (% of one core) | "
          "app CPU s | session processes CPU s | machine busy | load avg |")
    print("|---|---:|---:|---:|---:|---|---:|---|")
    base = results[0]["rate"]
    for res in results:
        sess = ", ".join(f"{k} {v / hz:.1f}" for k, v in
                         sorted(res["sessions"].items(), key=lambda kv: -kv[1]) if v > 0) or "–"
        label = res["kind"]
        if res["recorded"] is not None:
            label += f" ({res['recorded']}/{nsess} recorded)"
        print(f"| {label} | {res['rate']:.0f} | {res['rate'] / base:.3f} | "
              f"{res['pid1']:.2f} ({100 * res['pid1'] / res['wall']:.2f} %) | "
              f"{res['app_cpu']:.1f} | {sess} | {100 * res['machine_busy']:.0f} % | "
              f"{res['load']} |")
    print()


PARTS = {"throughput": part_throughput, "latency": part_latency, "start": part_start,
         "logbytes": part_logbytes, "load": part_load, "load-pinned": part_load_pinned}


def main():
    if len(sys.argv) < 3 or any(p not in PARTS for p in sys.argv[2:]):
        sys.exit(f"usage: recorder_bench.py EXECMARK {{{'|'.join(PARTS)}}}...")
    em = os.path.realpath(sys.argv[1])
    why = missing()
    if why:
        sys.exit(f"recorder_bench: SSM agent stand-in: {why}")
    for tool in ("script", "base64", "timeout"):
        if shutil.which(tool) is None:
            sys.exit(f"recorder_bench: {tool} is missing")
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    base = os.environ.get("BENCH_DIR") or tempfile.gettempdir()
    tmp = tempfile.mkdtemp(prefix="recorder-bench.", dir=base)
    try:
        for p in sys.argv[2:]:
            PARTS[p](em, tmp)
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
