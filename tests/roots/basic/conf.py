project = "Scenario"
extensions = ["sphinx_needs", "qms_docs"]
include_patterns = ["index.rst", "procedures/**", "standards.rst", "reports.rst"]
html_theme = "basic"
