"""``.. qms-glossary::``: the QMS's terms as a Sphinx glossary, with who uses each.

The terms come from :func:`qms_docs.glossary.load` (ISO 9000's terms with our own short
explanations, and the company's ``glossary.yaml``), and each entry names the documents
whose text uses the term. The page is made as a standard Sphinx ``glossary``, so every
document can link a term with Sphinx's own ``:term:`` role. A second table lists the
non-preferred wordings that ``qms check`` warns about, with the term to use instead.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

from .. import glossary
from ..errors import QmsError
from ..text import rst_text
from .directives import _QmsDirective


class GlossaryDirective(_QmsDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        state = self.qms
        root = state.source or state.root
        try:
            terms = glossary.load(root, state.config.organization)
        except QmsError as exc:
            raise self.error(f"qms-glossary: {exc}") from None
        self.remember_aggregate("texts")
        documents = [d for d in state.scan.documents if d.id]
        used = glossary.usage(root, documents, terms)
        in_build = state.documents_by_id()
        lines = [".. glossary::", ""]
        for term in terms.terms:
            lines.append(f"   {rst_text(term.term)}")
            if term.abbreviation:  # a second name of the same entry: :term:`FAI` links too
                lines.append(f"   {rst_text(term.abbreviation)}")
            source = term.source + (f", {term.clause}" if term.clause else "")
            text = f"{rst_text(term.explanation)} *({rst_text(source)})*"
            users = used.get(term.term.lower(), [])
            if users:
                text += " Used in: " + ", ".join(
                    f":need:`{d}`" if d in in_build else d for d in users) + "."
            lines += [f"      {text}", ""]
        lines += ["", ".. list-table:: Wordings not to use, and the term to use instead",
                  "   :header-rows: 1", "   :class: qms-non-preferred", "",
                  "   * - Wording", "     - Use", "     - Why"]
        for wording in terms.wordings:
            lines += [f"   * - {rst_text(wording.wording)}", f"     - {rst_text(wording.use)}",
                      f"     - {rst_text(wording.why) or 'company glossary'}"]
        return self.parse_lines(lines)


def setup(app: Sphinx) -> None:
    app.add_directive("qms-glossary", GlossaryDirective)
