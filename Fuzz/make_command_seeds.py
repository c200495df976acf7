#!/usr/bin/env python3
"""Writes the seed corpus of the structure-aware target (Fuzz/seeds/commands): one input per
command alternative of Grammar.command(), so the fuzzer starts with every command reached.

An input is choices (Sources/FuzzSupport/Grammar*.swift): byte 0 picks how many commands run,
byte 1 the collection, byte 2 whether the collection is replaced by a wild value (not, here),
byte 3 the command; the rest is filled from a fixed linear congruential generator. Byte 0's high
bits are the server's set-up (FuzzMode: --auth, logged in, test commands): the wave-2 commands
(alternatives 33-34, then one of Grammar+Admin.swift's 14) get one seed per set-up.
"""
import os

COMMAND_ALTERNATIVES = 36
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "seeds", "commands")
os.makedirs(out, exist_ok=True)
state = 12345
for choice in range(COMMAND_ALTERNATIVES):
    tail = bytearray()
    for _ in range(96):
        state = (state * 1103515245 + 12345) % (1 << 31)
        tail.append(state >> 23)
    with open(os.path.join(out, "command-%02d" % choice), "wb") as f:
        f.write(bytes([3, 0, 200, choice]) + bytes(tail))

ADMIN_ALTERNATIVES = 14
MODES = {"plain": 0x00, "auth": 0x80, "auth-login": 0xA0, "test": 0x10, "auth-login-test": 0xB0}
for sub in range(ADMIN_ALTERNATIVES):
    for name, mode in MODES.items():
        tail = bytearray()
        for _ in range(96):
            state = (state * 1103515245 + 12345) % (1 << 31)
            tail.append(state >> 23)
        with open(os.path.join(out, "admin-%02d-%s" % (sub, name)), "wb") as f:
            f.write(bytes([mode | 3, 0, 200, 33, sub]) + bytes(tail))
print(f"{COMMAND_ALTERNATIVES + ADMIN_ALTERNATIVES * len(MODES)} seeds in {out}")
