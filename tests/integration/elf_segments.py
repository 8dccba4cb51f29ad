# SPDX-License-Identifier: MIT
"""The LOAD segments of an ELF file and which of them the CPU may execute (test_static_binary,
test_arm64): constants, exception tables and string literals must not sit in an executable
segment (more gadgets for a return-oriented attack on PID 1), as GNU ld's default
`-z separate-code` keeps them; gold needs `--rosegment` for it (cmake/AgentSettings.cmake)."""
import subprocess

# Sections that hold data, never code.
DATA_SECTIONS = {".rodata", ".eh_frame", ".gcc_except_table", ".data", ".bss", ".got"}


def load_segments(path):
    """[(flags, [section names])] of every LOAD segment, from `readelf -lW` (section headers
    survive stripping)."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True, check=True,
                         timeout=30).stdout
    headers, mapping = out.split("Section to Segment mapping:")
    kinds = []
    for line in headers.splitlines():
        fields = line.split()
        if fields and fields[0].isupper() and fields[0] not in ("Type", "Program") and \
                len(fields) >= 7 and fields[1].startswith("0x"):
            kinds.append((fields[0], "".join(fields[6:-1])))
    sections = []
    for line in mapping.splitlines()[2:]:
        fields = line.split()
        if fields and fields[0].isdigit():
            sections.append(fields[1:])
    assert len(kinds) == len(sections), out
    return [(flags, names) for (kind, flags), names in zip(kinds, sections) if kind == "LOAD"]


def assert_only_code_executable(path):
    segments = load_segments(path)
    assert segments, "no LOAD segment"
    for flags, names in segments:
        assert not ("W" in flags and "E" in flags), (flags, names)
        if "E" in flags:
            assert not DATA_SECTIONS & set(names), (flags, names)


def file_gaps(path):
    """Bytes of the file between the end of each LOAD segment's contents and the start of the
    next one's (alignment padding), from `readelf -lW`."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True, check=True,
                         timeout=30).stdout
    loads = [(int(f[1], 16), int(f[4], 16)) for f in (line.split() for line in out.splitlines())
             if f and f[0] == "LOAD"]
    return [nxt[0] - (cur[0] + cur[1]) for cur, nxt in zip(loads, loads[1:])]
