"""Where a page links to: the one thing that differs between the live pages and the static site.

Live, every resource is `/id/{name}` and the docs are under `/docs/`. In the static site every link is
relative to the page (so the tree works from `file://` and from any directory it is copied to), and a
resource page is `id/{name}.html` inside the language's directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from graph.layout import BASE
from graph.tables import local_id


@dataclass(frozen=True)
class Links:
    to_site: str  # from this page to its language's root: "/docs/en/" live, "../" * depth in the static site
    to_root: str  # from this page to the site's root, where assets/ and the language directories are
    ids: str  # prefix of a resource page: "/id/" live, to_site + "id/" in the static site
    id_suffix: str  # "" live, ".html" in the static site
    live: bool
    lang: str
    path: str = ""  # this page's path inside its language's directory, for the language switch

    @classmethod
    def for_live(cls, lang: str = "en") -> Links:
        return cls("/docs/" + lang + "/", "/docs/", "/id/", "", live=True, lang=lang)

    @classmethod
    def for_static(cls, lang: str, path: str) -> Links:
        up = "../" * path.count("/")
        return cls(up, up + "../", up + "id/", ".html", live=False, lang=lang, path=path)

    def resource(self, iri: str | None) -> str | None:
        """Our own IRIs as resource pages; other IRIs live as they are, and in the static site not at all
        (it must read without internet access, so it links nowhere outside itself)."""
        if iri is None:
            return None
        if iri.startswith(BASE):
            return self.ids + quote(iri[len(BASE) :]) + self.id_suffix
        return iri if self.live else None

    def page(self, path: str) -> str:
        return self.to_site + path

    def quote(self, passage_iri: str) -> str:
        """The passage on the sources page, where its quote is shown with the facts that cite it."""
        return self.to_site + "sources.html#" + anchor(passage_iri)

    def asset(self, name: str) -> str:
        return self.to_root + "assets/" + name

    def language(self, lang: str) -> str:
        """This same page in another language."""
        return self.to_root + lang + "/" + (self.path or "index.html")


def anchor(iri: str) -> str:
    """The fragment id of a resource on a page: its local name, with "/" (ontology terms) made safe."""
    return local_id(iri).replace("/", "-")


def resource_path(iri: str) -> str:
    """The file of a resource page inside a language's directory."""
    return "id/" + local_id(iri) + ".html"
