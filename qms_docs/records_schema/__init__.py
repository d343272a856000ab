"""JSON Schemas of qms-docs: qms.toml, standards catalogs and every record kind.

A package of its own so that :mod:`importlib.resources` finds the files installed or not.
"""
