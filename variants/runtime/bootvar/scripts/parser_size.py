#!/usr/bin/env python3
"""Prints what the boot-argument parser itself brings to an image, from two release images
that keep their symbols (with the parser, and built with --cfg petrel_bootvar_baseline):
the growth of petrel-bootvar's own functions, of the boot glue functions that call the parser
(petrel::__private::*, __petrel_main), and of the read-only data section (the generated
argument table, the --help text and the parser's messages, which mostly have no symbols; a
named static of the parser is counted there once, not also as a symbol).
Output: one line `bootvar B glue G rodata R parser P`."""
import subprocess
import sys


def functions(image):
    """Sizes of the functions (text symbols) of `image`, by demangled name."""
    out = subprocess.run(["nm", "-S", "-C", "--defined-only", image], check=True,
                         capture_output=True, text=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4 and parts[2] in "tTwW":
            sizes[parts[3]] = sizes.get(parts[3], 0) + int(parts[1], 16)
    return sizes


def section(image, name):
    """Size of section `name` of `image` (0 if absent)."""
    out = subprocess.run(["readelf", "-SW", image], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        fields = line.replace("[ ", "[").split()
        if len(fields) > 5 and fields[1] == name:
            return int(fields[5], 16)
    return 0


def total(sizes, wanted):
    return sum(size for name, size in sizes.items() if wanted(name))


def bootvar(name):
    return "petrel_bootvar::" in name


def glue(name):
    return name.startswith("petrel::__private::") or name == "__petrel_main"


with_parser, without = functions(sys.argv[1]), functions(sys.argv[2])
own = total(with_parser, bootvar) - total(without, bootvar)
calls = total(with_parser, glue) - total(without, glue)
data = section(sys.argv[1], ".rodata") - section(sys.argv[2], ".rodata")
print(f"bootvar {own} glue {calls} rodata {data} parser {own + calls + data}")
