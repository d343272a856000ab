"""Reports for auditors and quality managers, each a list of typed rows.

``traceability`` (trace matrix, coverage, gaps, mandatory documented information),
``registers`` (master list, reviews due, change log), ``training`` (the training
matrix), ``export`` (the rows as CSV, Markdown, JSON, XLSX) and ``auditpack`` (all of it
as it stood on a date, in one archive). The CLI, the site and the audit pack show the
same rows.
"""
