#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""size_breakdown.py [MAP] — where the bytes of the static execmark come from.

Reads the linker map the release-static build writes next to the binary
(build/release-static/agent/execmark.map; gold's since the build links with gold, GNU ld's
format is read too) and sums the code and data sections the linker kept (.text, .rodata,
.data, .eh_frame, .gcc_except_table) per library, and per archive member for the C and C++
runtime. What the map does not attribute to an input file — gold builds .eh_frame and the
merged string constants itself, functions folded by --icf are not listed — is one row of its
own, the difference between the output sections' sizes and the attributed bytes, so the total
is the whole of the kept sections. With LTO, execmark's own code and the header-only
libraries it instantiates (spdlog/fmt, nlohmann::json, Boost headers) come out of the
link-time optimiser as one part and are reported together. Prints Markdown.
"""
import collections
import re
import sys

KEPT = re.compile(r"\.(text|rodata|data|eh_frame|gcc_except_table)")
ENTRY = re.compile(r"^ ?(\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
SECTION_ONLY = re.compile(r"^ (\.\S+)\s*$")
OUTPUT = re.compile(r"^(\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s*$")
UNATTRIBUTED = "not attributed by the map (merged strings, .eh_frame built by the linker)"


def origin(text):
    """'/usr/lib/.../libc.a(printf.o)' -> ('libc.a', 'printf.o'); LTO partitions -> ours."""
    text = text.strip()
    if "ltrans" in text or text.endswith(".ltrans.o"):
        return "execmark (LTO: own code + header-only libraries)", ""
    m = re.match(r"^(.*?)(?:\((.*)\))?$", text)
    path, member = m.group(1), m.group(2) or ""
    return path.rsplit("/", 1)[-1], member


def map_entries(path):
    """The sections of a linker map (gold's or GNU ld's), in the map's order: ("output", name,
    address, size, "") for an output section, ("input", name, address, size, input file) for an
    input section placed in it (name None when the map gives none)."""
    in_map = False
    pending = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(("Linker script and memory map", "Memory map")):
                in_map = True
                continue
            if not in_map:
                continue
            m = OUTPUT.match(line)
            if m:
                pending = None
                yield "output", m.group(1), int(m.group(2), 16), int(m.group(3), 16), ""
                continue
            m = SECTION_ONLY.match(line)
            if m:
                pending = m.group(1)
                continue
            m = ENTRY.match(line)
            if not m:
                pending = None
                continue
            section = m.group(1) or pending
            pending = None
            yield "input", section, int(m.group(2), 16), int(m.group(3), 16), m.group(4)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "build/release-static/agent/execmark.map"
    per_lib = collections.Counter()
    per_member = collections.Counter()
    output_total = 0
    for kind, section, _, size, source in map_entries(path):
        if kind == "output":
            if KEPT.match(section):
                output_total += size
            continue
        if section is None or not KEPT.match(section) or size == 0:
            continue
        lib, member = origin(source)
        if lib.startswith("*") or lib.startswith("0x"):
            continue
        per_lib[lib] += size
        if lib in ("libc.a", "libstdc++.a"):
            per_member[f"{lib}({member})"] += size
    if not per_lib:
        sys.exit(f"size_breakdown: no sections found in {path}")
    if output_total > sum(per_lib.values()):
        per_lib[UNATTRIBUTED] = output_total - sum(per_lib.values())
    total = sum(per_lib.values())
    print(f"Sections kept by the linker (code, read-only data, data, unwind tables), from `{path}`:\n")
    print("| part | KiB | share |")
    print("|---|---|---|")
    for lib, size in per_lib.most_common():
        if size >= 1024:
            print(f"| {lib} | {size / 1024:,.0f} | {100 * size / total:.0f} % |")
    print(f"| **total** | **{total / 1024:,.0f}** | |")
    print("\nLargest C/C++ runtime members:\n")
    print("| archive member | KiB |")
    print("|---|---|")
    for member, size in per_member.most_common(15):
        print(f"| {member} | {size / 1024:,.1f} |")


if __name__ == "__main__":
    main()
