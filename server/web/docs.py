"""The documentation site: `hvkg docs OUT` writes it, `/docs/` serves it live, both from one build in memory.

`build_site` renders every page of a snapshot once into {path: bytes}, cached by the snapshot's content
hash, so the written tree and the live pages are the same bytes. Pages are rendered by server.web.pages'
`render_page` with the same templates as the live /id/ pages; only the links differ (relative here). The
site's own index.html is the first language's home page (with the switch to the other), so opening the tree
opens the docs, not a chooser.
"""

from __future__ import annotations

import threading
from pathlib import Path, PurePosixPath

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from graph.model import BadInput
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.ops.state import SnapshotHolder
from server.web.docs_links import Links, resource_path
from server.web.docs_pages import architecture_diagram, helpers, home, pages, svg_files
from server.web.docs_site import Site
from server.web.render import render_page, render_resource

ASSETS = Path(__file__).parents[1] / "static" / "docs"
LANGS = ("en", "ja")
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
CHOICES = {"en": ("en",), "ja": ("ja",), "both": LANGS}

_CACHE: dict[tuple[str, str], dict[str, bytes]] = {}
_LOCK = threading.Lock()


def languages_of(lang: str) -> tuple[str, ...]:
    if lang not in CHOICES:
        raise BadInput(
            "lang",
            {
                "en": f"lang: use one of {', '.join(CHOICES)} (got {lang[:20]!r})",
                "ja": f"lang: {', '.join(CHOICES)} のいずれかを指定してください({lang[:20]!r})",
            },
        )
    return CHOICES[lang]


def build_site(snapshot: Snapshot, lang: str = "both") -> dict[str, bytes]:
    """Every file of the site, by its path; built once per snapshot and language choice."""
    key = (snapshot.content_hash, lang)
    with _LOCK:
        if key not in _CACHE:
            for old in [k for k in _CACHE if k[0] != snapshot.content_hash]:
                del _CACHE[old]
            _CACHE[key] = _build(snapshot, languages_of(lang))
        return _CACHE[key]


def _build(snapshot: Snapshot, languages: tuple[str, ...]) -> dict[str, bytes]:
    site = Site(snapshot)
    files: dict[str, bytes] = {}
    for asset in sorted(ASSETS.iterdir()):
        if asset.is_file():
            files["assets/" + asset.name] = asset.read_bytes()
    files["index.html"] = _encode(_site_home(site, languages))
    for lang in languages:
        lookups = helpers(site, lang)
        for page in pages(site, lang):
            links = Links.for_static(lang, page.path)
            context = {**lookups, **page.context}
            html = render_page(page.template, snapshot, links, lang, languages, title=page.title, **context)
            files[f"{lang}/{page.path}"] = _encode(html)
        for name, svg in svg_files(site, lang):
            files[f"{lang}/diagrams/{name}"] = svg.encode("utf-8")
        for iri in snapshot.descriptions:
            path = resource_path(iri)
            resource = render_resource(snapshot, local_id(iri), lang, Links.for_static(lang, path), languages)
            if resource is not None:
                files[f"{lang}/{path}"] = _encode(resource)
    return dict(sorted(files.items()))


def _site_home(site: Site, languages: tuple[str, ...]) -> str:
    """The site's own index.html: the first language's home page, its links made relative to the site's root
    (so `site/index.html` opens the docs, with the switch to the other language), its diagram drawn again
    with those links."""
    lang = languages[0]
    links = Links(lang + "/", "", lang + "/id/", ".html", live=False, lang=lang, path="index.html")
    page = home(site, lang)
    subject = page.context["home_product"]
    diagram = architecture_diagram(site, subject, lang, links, "home") if subject else None
    context = {**helpers(site, lang), **page.context, "diagram": diagram}
    return render_page(page.template, site.snapshot, links, lang, languages, title=page.title, **context)


def _encode(html: str) -> bytes:
    return (html.rstrip("\n") + "\n").encode("utf-8")


def write_site(snapshot: Snapshot, out: Path, lang: str = "both") -> list[Path]:
    """Write the site under `out` (created if missing); return the files written, in path order.

    Files of an earlier run that this one does not produce are left alone: the directory may be shared.
    """
    files = build_site(snapshot, lang)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for relative, content in files.items():
        target = out.joinpath(*PurePosixPath(relative).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    return written


def _unavailable() -> Response:
    return PlainTextResponse("the graph is loading / グラフを読み込み中です", status_code=503)


def docs_routes(holder: SnapshotHolder) -> list[BaseRoute]:
    async def serve(request: Request) -> Response:
        snapshot = holder.current
        if snapshot is None:
            return _unavailable()
        path: str = request.path_params.get("path", "")
        if path == "" or path.endswith("/"):
            path += "index.html"
        files = await anyio.to_thread.run_sync(build_site, snapshot, "both")
        content = files.get(path)
        if content is None and path + "/index.html" in files:
            # A language's directory without its slash: relative links need the slash to resolve.
            return RedirectResponse(f"/docs/{path}/", status_code=308)
        if content is None:
            return PlainTextResponse(f"no page {path[:200]!r} in the docs / ドキュメントにありません", status_code=404)
        media = MEDIA_TYPES.get(PurePosixPath(path).suffix, "application/octet-stream")
        return Response(content, media_type=media)

    async def to_slash(request: Request) -> Response:
        return RedirectResponse("/docs/", status_code=308)

    return [
        Route("/docs", to_slash),
        Route("/docs/", serve),
        Route("/docs/{path:path}", serve),
    ]
