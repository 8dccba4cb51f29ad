# SPDX-License-Identifier: MIT
"""CPU cost per relayed byte of the session recorder vs util-linux `script`, per process.

usage: recorder_cpu.py [LABEL=]EXECMARK... [--runs N] [--mib N] [--callgrind-mib N]
                       [--perf-record FILE] [--only SUBSTRING]

Several EXECMARK binaries (e.g. before=OLD after=NEW) are measured in the same run, interleaved.

Each relay (`script -q -c CMD /dev/null`, `execmark shell -- sh -c CMD`) runs on a pty this
script drains as fast as it can; CMD waits for a trigger file, then `cat`s a text file. Once the
relay has started its threads and forked the command, `perf stat --no-inherit -p PID` is attached
to the relay process's threads only (not to the command: `cat`'s own cost of writing into the
inner pty is not the relay's), the trigger is touched, and the counts run until the relay exits.
Counted: task-clock (CPU time of the relay, user + kernel, all its threads), system calls
(raw_syscalls:sys_enter) and context switches. Both relays' counts include their start and end
after the trigger (small against N MiB).

The recorder needs PID 1's yes (`rec start`) to relay; here a stand-in PID 1 (a Unix socket
server in this process that answers {"ok":true} to every request) gives it, so the recorder runs
its production code path (reporter thread, checkpoints every `flow` period, the end report) without
the SSM agent stand-in's extra relay hops. Nothing is signed (the markers fall back to unsigned).

--keys N: instead, keystroke to echo: each relay runs `cat` on its inner terminal (the inner
terminal, cooked, echoes), all open at once, plus `cat` directly on a pty (the kernel's echo, no
relay); N keystrokes to each, alternating; the time from writing `x` to reading its echo, and
the relay's system calls, CPU and context switches per keystroke (perf stat as above, over the
keystrokes only).

--callgrind-mib N: also counts user-space instructions of each relay with valgrind's callgrind
(independent of the machine's load): the relay of N MiB minus the relay of 0 bytes, per byte.
Prints Markdown.
"""
import argparse
import fcntl
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class FakePid1:
    """Answers {"ok":true} to every request line; counts the rec kinds it saw."""

    def __init__(self, path):
        self.path = path
        self.kinds = {}
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(64)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                m = re.search(rb'"kind":"([a-z]+)"', data)
                if m:
                    k = m.group(1).decode()
                    self.kinds[k] = self.kinds.get(k, 0) + 1
                try:
                    conn.sendall(b'{"ok":true}\n')
                except OSError:
                    pass


def make_text_file(path, size):
    with open(path, "wb") as f:
        subprocess.run(f"head -c {size * 3 // 4 + 4096} /dev/urandom | base64 -w 76 "
                       f"| head -c {size}", shell=True, stdout=f, check=True)


def spawn_on_pty(argv, env):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))

    def ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, preexec_fn=ctty, close_fds=True)
    os.close(slave)
    return master, proc


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def drain(master):
    total = 0
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        total += len(chunk)
    return total


def parse_perf(path):
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) < 3 or parts[0] in ("", "<not counted>", "<not supported>"):
                continue
            try:
                out[parts[2]] = float(parts[0])
            except ValueError:
                pass
    return out


def run_one(argv, env, trigger, tmp, perf_record=None):
    """One relay of the file; returns (bytes at the outer pty, wall s, perf counts)."""
    if os.path.exists(trigger):
        os.unlink(trigger)
    master, proc = spawn_on_pty(argv, env)
    deadline = time.monotonic() + 20
    while not children(proc.pid):
        if time.monotonic() > deadline or proc.poll() is not None:
            sys.exit(f"recorder_cpu: {argv[0]} started no command")
        time.sleep(0.01)
    # The prompt-less start (open banner) is drained by a thread while perf attaches.
    got = {}
    reader = threading.Thread(target=lambda: got.setdefault("n", drain(master)))
    reader.start()
    time.sleep(0.3)  # the recorder's reporter thread is up
    csv = os.path.join(tmp, "perf.csv")
    if perf_record:
        event = os.environ.get("PERF_EVENT", "cpu-clock")
        perf = subprocess.Popen(["perf", "record", "-q", "-F", "2000", "-g", "--no-inherit",
                                 "-e", event,
                                 "-o", perf_record, "-p", str(proc.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        perf = subprocess.Popen(["perf", "stat", "-x", ",", "-o", csv, "--no-inherit",
                                 "-e", "task-clock,raw_syscalls:sys_enter,context-switches",
                                 "-p", str(proc.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    t0 = time.perf_counter()
    open(trigger, "w").close()
    proc.wait()
    wall = time.perf_counter() - t0
    reader.join()
    perf.wait()
    os.close(master)
    return got.get("n", 0), wall, ({} if perf_record else parse_perf(csv))


def callgrind_ir(argv, env, trigger, tmp):
    out = os.path.join(tmp, "cg.out")
    cg = ["valgrind", "--tool=callgrind", "--trace-children=no", f"--callgrind-out-file={out}"]
    if os.path.exists(trigger):
        os.unlink(trigger)
    open(trigger, "w").close()
    master, proc = spawn_on_pty(cg + argv, env)
    drain(master)
    proc.wait()
    os.close(master)
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return None


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def keys(args, variants, env, tmp):
    import select
    sessions = {"no relay: `cat` on the pty itself": ["cat"]}
    for name, argv in variants.items():
        # The command is `exec cat` instead of the trigger loop and a file.
        sessions[name] = [("exec cat" if "while [" in a else a) for a in argv("/dev/null")]
    open_ = {}
    for name, argv in sessions.items():
        master, proc = spawn_on_pty(argv, env)
        open_[name] = (master, proc)
    time.sleep(1.5)
    for master, _ in open_.values():
        while select.select([master], [], [], 0.05)[0]:
            os.read(master, 65536)
    perfs = {}
    for name, (master, proc) in open_.items():
        if name.startswith("no relay"):
            continue
        csv = os.path.join(tmp, f"keys{len(perfs)}.csv")
        perfs[name] = (csv, subprocess.Popen(
            ["perf", "stat", "-x", ",", "-o", csv, "--no-inherit",
             "-e", "task-clock,raw_syscalls:sys_enter,context-switches", "-p", str(proc.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.5)
    lat = {k: [] for k in open_}
    names = list(open_)
    loads = [loadavg()]
    for i in range(args.keys):
        for name in (names if i % 2 == 0 else names[::-1]):
            master = open_[name][0]
            t0 = time.perf_counter()
            os.write(master, b"x")
            buf = b""
            while b"x" not in buf:
                if not select.select([master], [], [], 10)[0]:
                    sys.exit(f"recorder_cpu: no echo from {name}")
                buf += os.read(master, 65536)
            lat[name].append((time.perf_counter() - t0) * 1000)
            if i % 100 == 99:
                os.write(master, b"\x15")
                time.sleep(0.002)
                while select.select([master], [], [], 0.02)[0]:
                    os.read(master, 65536)
    loads.append(loadavg())
    for csv, perf in perfs.values():
        perf.send_signal(signal.SIGINT)
        perf.wait()
    for master, proc in open_.values():
        proc.kill()
        proc.wait()
        os.close(master)
    print(f"Keystroke to echo, `cat` on the inner terminal (its echo), {args.keys} keystrokes to "
          f"each, alternating; load average {' → '.join(loads)}. Per keystroke: the relay's "
          "counts over all keystrokes (Ctrl-U every 100th included) divided by their number.")
    print()
    print("| relay | p50 ms | p90 ms | p99 ms | max ms | CPU µs per key | system calls per key "
          "| context switches per key |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        v = lat[name]
        cols = "– | – | –"
        if name in perfs:
            c = parse_perf(perfs[name][0])
            cols = (f"{c.get('task-clock', float('nan')) * 1000 / args.keys:.1f} | "
                    f"{c.get('raw_syscalls:sys_enter', float('nan')) / args.keys:.2f} | "
                    f"{c.get('context-switches', float('nan')) / args.keys:.2f}")
        print(f"| {name} | {pct(v, 50):.3f} | {pct(v, 90):.3f} | {pct(v, 99):.3f} | "
              f"{max(v):.3f} | {cols} |")
    print()


def main():
    tmp = tempfile.mkdtemp(prefix="recorder-cpu.")
    try:
        measure(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(tmp):
    ap = argparse.ArgumentParser()
    ap.add_argument("execmark", nargs="+")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--callgrind-mib", type=int, default=0)
    ap.add_argument("--perf-record", default="")
    ap.add_argument("--only", default="", help="script | recorder")
    ap.add_argument("--keys", type=int, default=0)
    args = ap.parse_args()
    sock = os.path.join(tmp, "agent.sock")
    pid1 = FakePid1(sock)
    size = args.mib << 20
    data = os.path.join(tmp, "text.txt")
    make_text_file(data, size)
    trigger = os.path.join(tmp, "go")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
           "SHELL": "/bin/sh", "AWS_USER": "bench@example.com", "EXECMARK_SOCKET": sock,
           "EXECMARK_BANNER": "off", "TERM": "xterm"}

    def cmd(path):
        return f"while [ ! -e {trigger} ]; do sleep 0.01; done; cat {path}"

    variants = {
        "util-linux `script -q -c CMD /dev/null`":
            lambda p: ["script", "-q", "-c", cmd(p), "/dev/null"],
    }
    for spec in args.execmark:
        label, _, path = spec.rpartition("=")
        em = os.path.realpath(path)
        name = f"`execmark shell -- sh -c CMD` (recorded){' ' + label if label else ''}"
        variants[name] = (lambda em: lambda p: [em, "shell", "--", "sh", "-c", cmd(p)])(em)
    if args.only:
        variants = {k: v for k, v in variants.items() if args.only in k}
    names = list(variants)
    if args.keys:
        keys(args, variants, env, tmp)
        return
    if args.perf_record:
        for i, name in enumerate(names):
            run_one(variants[name](data), env, trigger, tmp,
                    perf_record=f"{args.perf_record}.{i}")
            print(f"perf record of {name}: {args.perf_record}.{i}")
        return
    res = {k: [] for k in names}
    loads = [loadavg()]
    for r in range(args.runs):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            res[name].append(run_one(variants[name](data), env, trigger, tmp))
        loads.append(loadavg())
    if args.runs == 0:
        res = None
    if res is not None:
        print_table(args, names, res, size, loads, pid1)
    callgrind(args, names, variants, env, trigger, tmp)


def print_table(args, names, res, size, loads, pid1):
    print(f"{size} bytes of base64 text (77-byte lines) relayed by each, {args.runs} runs "
          f"interleaved; load average {' → '.join(loads)}; rec reports PID 1 stand-in "
          f"got: {pid1.kinds}.")
    print()
    print("| relay | bytes at the outer pty | wall s (median; min–max) | relay CPU s (median; min–max) | "
          "CPU ns per byte | system calls per MiB | context switches per MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    med = {}
    for name in names:
        rows = res[name]
        cpu = [r[2].get("task-clock", float("nan")) / 1000 for r in rows]  # msec -> s
        sysc = [r[2].get("raw_syscalls:sys_enter", float("nan")) for r in rows]
        cs = [r[2].get("context-switches", float("nan")) for r in rows]
        med[name] = statistics.median(cpu)
        walls = [r[1] for r in rows]
        print(f"| {name} | {max(r[0] for r in rows)} | {statistics.median(walls):.3f} "
              f"({min(walls):.3f}–{max(walls):.3f}) "
              f"| {med[name]:.3f} ({min(cpu):.3f}–{max(cpu):.3f}) | "
              f"{med[name] * 1e9 / size:.2f} | {statistics.median(sysc) / args.mib:.0f} | "
              f"{statistics.median(cs) / args.mib:.0f} |")
    print()
    for name in names[1:]:
        if names[0] in med:
            print(f"Relay CPU {name} / script (medians): **{med[name] / med[names[0]]:.2f}**")
            print()


def callgrind(args, names, variants, env, trigger, tmp):
    if args.callgrind_mib:
        small = os.path.join(tmp, "small.txt")
        make_text_file(small, args.callgrind_mib << 20)
        empty = os.path.join(tmp, "empty.txt")
        open(empty, "w").close()
        print(f"callgrind (user-space instructions of the relay process, valgrind "
              f"--trace-children=no), {args.callgrind_mib} MiB minus 0 bytes:")
        print()
        print("| relay | instructions, N MiB | instructions, 0 bytes | per byte |")
        print("|---|---:|---:|---:|")
        for name in names:
            full = callgrind_ir(variants[name](small), env, trigger, tmp)
            base = callgrind_ir(variants[name](empty), env, trigger, tmp)
            print(f"| {name} | {full} | {base} | "
                  f"{(full - base) / (args.callgrind_mib << 20):.2f} |")
        print()


if __name__ == "__main__":
    main()
