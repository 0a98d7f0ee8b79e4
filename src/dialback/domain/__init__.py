"""The pure core of dialback: rules only, no I/O, no clock, no global randomness.

Only the standard library and this package may be imported here (a unit test walks the imports).
"""
