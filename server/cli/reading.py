"""Reading input the way people type it: `--sp SP2`, `--vcpus ２`, `--arch amd64`, a node as `kg:vhd`.

Input is read the way people type it: `--sp SP2`, `sp2`, `2`, `SP 2`, `Service Pack 2` (0, `none`, `RTM`,
`なし` for no service pack), `--arch` and `--installation` by any name the graph gives them (`amd64`, `64bit`,
`server core`), a node by its id, its prefixed name or its IRI. What cannot be read is `BadInput` naming the
argument, with a message in English and Japanese.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from graph.model import Architecture, BadInput, InstallationMode, Text, text

if TYPE_CHECKING:
    from graph.model import Named
    from graph.snapshot import Snapshot

# Ways of writing "no service pack" (after NFKC, lower case, no spaces); a number is read by _SERVICE_PACK.
NO_SERVICE_PACK = frozenset({"none", "rtm", "nosp", "なし", "spなし"})
# "sp2", "servicepack2", "サービスパック2", "2", "-1" (which the verdict refuses, naming the value). Nine digits at
# most: a longer number is no service pack anyone has, and int() of thousands of digits is refused by Python.
_SERVICE_PACK = re.compile(r"(?:sp|servicepack|サービスパック)?(-?\d{1,9})")
_COUNT = re.compile(r"\+?(-?\d{1,9})")
# A prefixed name as Turtle writes it: "kg:vhd", "article:p-lic-01" (not "https://...")
_PREFIXED = re.compile(r"([A-Za-z][\w.-]*)?:([^/:\s][^\s]*)")


def shown(value: str) -> str:
    """A value as an error message quotes it: repr, cut at 60 characters."""
    return repr(value[:60] + ("…" if len(value) > 60 else ""))


def parse_service_pack(value: str) -> int:
    """`--sp` as people write it; a negative number is returned for the verdict to refuse with its own words."""
    key = "".join(unicodedata.normalize("NFKC", value).casefold().split())
    if key in NO_SERVICE_PACK:
        return 0
    found = _SERVICE_PACK.fullmatch(key)
    if found is None:
        raise BadInput(
            "servicePack",
            {
                "en": f"servicePack: {shown(value)} is not a service pack; write a number (2), SP2 or "
                "'Service Pack 2', and 0, none or RTM for none",
                "ja": f"servicePack: {shown(value)} はService Packとして読めません。数字(2)、SP2、"
                "'Service Pack 2' のように、SPなしは 0、none、なし で指定してください",
            },
        )
    return int(found[1])


def parse_count(value: str) -> int:
    """`--vcpus`: a whole number (full-width digits too); below 1 is for the verdict to refuse."""
    found = _COUNT.fullmatch(unicodedata.normalize("NFKC", value).strip())
    if found is None:
        raise BadInput(
            "virtualProcessors",
            {
                "en": f"virtualProcessors: {shown(value)} is not a number of virtual processors (1, 2, 4)",
                "ja": f"virtualProcessors: {shown(value)} は仮想プロセッサ数として読めません(1、2、4 など)",
            },
        )
    return int(found[1])


def _resolve(snapshot: Snapshot, value: str, kind: str, argument: str, what: Text) -> Named:
    """A name of a small fixed kind (architecture, installation), by any of the names the graph gives it."""
    found = snapshot.names.resolve(value, kind) if value.strip() else None
    if found is None:
        close = snapshot.names.suggest(value, kind) or tuple(
            snapshot.tables.named(iri) for iri, type_ in sorted(snapshot.tables.types.items()) if type_ == kind
        )
        en = ", ".join(text(n.label, "en") for n in close)
        ja = "、".join(text(n.label, "ja") for n in close)
        raise BadInput(
            argument,
            {
                "en": f"{argument}: {shown(value)} is not a known {what['en']}; known: {en}",
                "ja": f"{argument}: {shown(value)} という{what['ja']}はありません。既知の名前: {ja}",
            },
        )
    return found


def architecture(snapshot: Snapshot, value: str) -> Architecture:
    named = _resolve(snapshot, value, "CpuArchitecture", "architecture", {"en": "architecture", "ja": "アーキテクチャ"})
    return Architecture(named.id)


def installation(snapshot: Snapshot, value: str) -> InstallationMode:
    what = {"en": "installation", "ja": "インストール形態"}
    return InstallationMode(_resolve(snapshot, value, "InstallationMode", "installation", what).id)


def expand(snapshot: Snapshot, given: str) -> str:
    """A node as people name it: a prefixed name of the graph's prefixes (kg:vhd) becomes its IRI; an id
    (vhd, doc-article/p-lic-01) or a full IRI is left as graph.nodes takes it."""
    value = given.strip()
    found = _PREFIXED.fullmatch(value)
    if found is None:
        return value
    namespaces = {prefix: str(namespace) for prefix, namespace in snapshot.graph.namespaces()}
    namespace = namespaces.get(found[1] or "")
    return value if namespace is None else namespace + found[2]


def blank_text(argument: str, what: Text) -> BadInput:
    """Empty or blank text where words were wanted (a search, a node)."""
    return BadInput(
        argument,
        {"en": f"{argument}: empty; give {what['en']}", "ja": f"{argument}: 空です。{what['ja']}を指定してください"},
    )
