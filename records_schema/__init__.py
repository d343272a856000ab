"""JSON Schemas of qms-docs: qms.toml, standards catalogs and every record kind.

This folder is shipped inside the package as ``qms_docs.records_schema``.
"""
