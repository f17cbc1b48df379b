#!/usr/bin/env python3
"""Prints the loaded size of an ELF64 image: the sum of its PT_LOAD segments' file sizes
(text, rodata, data...). Used by size.sh and size-image.sh."""
import struct
import sys

data = open(sys.argv[1], "rb").read()
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
total = 0
for i in range(phnum):
    p_type, _, _, _, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
    if p_type == 1:  # PT_LOAD
        total += filesz
print(total)
