# Sphinx configuration of the example QMS. The document types, options and links of
# sphinx-needs come from qms.toml through the qms_docs extension; this file only holds
# what a Sphinx user expects to choose: project, theme, pages.

project = "Harbour Valve QMS"
author = "Harbour Valve Company Ltd"
copyright = "2026, Harbour Valve Company Ltd"

extensions = ["sphinx_needs", "qms_docs"]

root_doc = "index"
include_patterns = ["index.rst", "manual/**", "procedures/**", "standards/**", "reports/**"]
exclude_patterns = ["_build"]

html_theme = "alabaster"
html_title = "Harbour Valve QMS"
# The sidebar has no global table of contents: its cost per page grows with the number
# of documents (see BENCHMARKS.md); the section pages list the documents instead.
html_sidebars = {"**": ["about.html", "qms-sections.html", "searchbox.html", "relations.html"]}
html_theme_options = {
    "description": "Quality Management System (ISO 9001:2015)",
    "page_width": "1180px",
    "sidebar_width": "240px",
    "extra_nav_links": {
        "Quality manual and policies": "manual/index.html",
        "Procedures, instructions, forms": "procedures/index.html",
        "ISO 9001:2015 clauses": "standards/iso9001-2015.html",
        "Traceability matrix": "reports/traceability.html",
        "Coverage": "reports/coverage.html",
        "Gap analysis": "reports/gaps.html",
        "Mandatory documented information": "reports/mandatory.html",
        "Master document list": "reports/master-list.html",
        "Periodic reviews due": "reports/reviews-due.html",
        "Training matrix": "reports/training.html",
        "Change log": "reports/change-log.html",
        "Transition to ISO 9001:2026": "reports/transition.html",
        "Glossary": "reports/glossary.html",
    },
}
html_show_sourcelink = False
