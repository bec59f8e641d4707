"""A synthetic catalogue of the size you ask for: `python bench/catalogue.py DIR --triples N`.

DIR becomes a data directory that `HVKG_DATA=DIR hvkg serve` and `hvkg --data DIR validate` accept: the
checkout's ontology/ and queries/ are copied; graph/facts/ and graph/sources.ttl are generated, with many more
operating systems (each with editions and an English and a Japanese name, a short form, and service packs),
products, and guest support rows, every one citing a passage whose quote stands verbatim in
graph/sources/synthetic.txt. The first few operating systems carry the article's names (Windows XP, Windows
Server 2008, ...), so the portals' usual questions resolve on every size. The output is deterministic.

The ontology alone is about 800 triples, so the 1k catalogue is the ontology and a few rows.
`python bench/catalogue.py DIR --edit value|system|invalid` edits one facts file of a catalogue as an analyst
would (bench/validation.py measures the validation that follows).
"""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ontology_triples() -> int:
    """The triples of ontology/hvkg.ttl of the checkout (the shapes are not part of the served graph), counted
    when a catalogue is made, so the size asked for holds however the ontology grows."""
    from rdflib import Graph

    return len(Graph().parse(ROOT / "ontology" / "hvkg.ttl", format="turtle"))


FIXED_TRIPLES = 100  # the document, the enumerations, the service-pack levels and hyper-v, written once
TRIPLES_PER_SYSTEM = 132  # one operating system with its editions, rows and passages (measured, see --check)
FILES_EVERY = 1000  # operating systems per facts file

PREFIXES = """@prefix hv: <https://hyperv-kg.example.org/id/ontology/> .
@prefix kg: <https://hyperv-kg.example.org/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

KNOWN = [
    ("Windows Server 2008", "W2K8"),
    ("Windows XP", "WinXP"),
    ("Windows Vista", "Vista"),
    ("Windows Server 2003", "W2K3"),
    ("Windows 2000 Server", "W2K"),
    ("SUSE Linux Enterprise Server 10", "SLES10"),
    ("Red Hat Linux 9", "RHL9"),
]
VENDORS = [
    ("Contoso", "コントソ"),
    ("Fabrikam", "ファブリカム"),
    ("Northwind", "ノースウィンド"),
    ("Litware", "リットウェア"),
    ("Adatum", "アデイタム"),
    ("Tailspin", "テイルスピン"),
    ("Wingtip", "ウィングティップ"),
    ("Proseware", "プロスウェア"),
    ("Woodgrove", "ウッドグローブ"),
    ("Lucerne", "ルツェルン"),
]
FAMILIES = [
    ("Server", "サーバ"),
    ("Linux", "リナックス"),
    ("Desktop", "デスクトップ"),
    ("Embedded", "組込み"),
    ("Cloud", "クラウド"),
]
EDITIONS = [("Standard", "標準"), ("Enterprise", "エンタープライズ"), ("Datacenter", "データセンター"), ("Web", "Web")]
PRODUCTS = 40  # synthetic products besides hyper-v


@dataclass(frozen=True)
class System:
    number: int
    en: str
    ja: str
    short: str


def system(number: int) -> System:
    if number < len(KNOWN):
        en, short = KNOWN[number]
        return System(number, en, en, short)
    n = number - len(KNOWN)
    vendor_en, vendor_ja = VENDORS[n % len(VENDORS)]
    family_en, family_ja = FAMILIES[n // len(VENDORS) % len(FAMILIES)]
    version = 1990 + n // (len(VENDORS) * len(FAMILIES)) % 40
    release = n // (len(VENDORS) * len(FAMILIES) * 40)
    suffix = f" R{release}" if release else ""
    en = f"{vendor_en} {family_en} {version}{suffix}"
    ja = f"{vendor_ja} {family_ja} {version}{suffix}"
    return System(number, en, ja, f"{vendor_en[:3].upper()}{family_en[:1]}{version % 100:02d}{release or ''}")


def literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Writer:
    """Numbers the passages and keeps their quotes, in order, for the source file."""

    def __init__(self) -> None:
        self.quotes: list[str] = []
        self.row_numbers: dict[str, int] = {}

    def passage(self, iri: str, quote: str, section: str) -> str:
        self.quotes.append(quote)
        return (
            f"{iri} a hv:Passage ; hv:quote {literal(quote)}@ja ; hv:section {literal(section)}@ja ;\n"
            f"    hv:position {len(self.quotes)} ; dcterms:isPartOf kg:doc-synthetic .\n"
        )

    def row_number(self, product: str) -> int:
        self.row_numbers[product] = self.row_numbers.get(product, 0) + 1
        return self.row_numbers[product]


def fixed(writer: Writer) -> str:
    parts = [
        PREFIXES,
        """kg:doc-synthetic a hv:Document ;
    dcterms:title "合成カタログ"@ja , "Synthetic catalogue"@en ;
    dcterms:publisher "hyperv-kg bench" ;
    hv:asOf "2008-08"^^xsd:gYearMonth ;
    dcterms:license <https://creativecommons.org/licenses/by/4.0/> ;
    hv:sourceFile "graph/sources/synthetic.txt" .
""",
        writer.passage("kg:p-syn-products", "合成カタログの製品と列挙値。", "製品"),
        """kg:hyper-v a hv:Product ;
    skos:prefLabel "Hyper-V"@en , "Hyper-V"@ja ; skos:altLabel "hyperv"@en ;
    hv:architectureStyle kg:hypervisor-style ; prov:wasDerivedFrom kg:p-syn-products .
kg:hypervisor-style a hv:ArchitectureStyle ; skos:prefLabel "hypervisor"@en , "ハイパーバイザ型"@ja ;
    prov:wasDerivedFrom kg:p-syn-products .
kg:hosted-style a hv:ArchitectureStyle ; skos:prefLabel "hosted"@en , "ホストOS型"@ja ;
    prov:wasDerivedFrom kg:p-syn-products .
kg:x86 a hv:CpuArchitecture ; skos:prefLabel "x86"@en , "x86"@ja ; skos:altLabel "32-bit"@en ;
    prov:wasDerivedFrom kg:p-syn-products .
kg:x64 a hv:CpuArchitecture ; skos:prefLabel "x64"@en , "x64"@ja ; skos:altLabel "64-bit"@en ;
    prov:wasDerivedFrom kg:p-syn-products .
kg:full-installation a hv:InstallationMode ; skos:prefLabel "full installation"@en , "完全"@ja ;
    prov:wasDerivedFrom kg:p-syn-products .
kg:server-core a hv:InstallationMode ; skos:prefLabel "Server Core"@en , "Server Core"@ja ;
    prov:wasDerivedFrom kg:p-syn-products .
kg:synthetic-io a hv:IoMode ; skos:prefLabel "synthetic devices"@en , "VMBus経由"@ja ;
    prov:wasDerivedFrom kg:p-syn-products .
kg:emulated-io a hv:IoMode ; skos:prefLabel "emulated devices"@en , "エミュレーション"@ja ;
    prov:wasDerivedFrom kg:p-syn-products .
"""
        + "".join(
            f'kg:service-pack-{n} a hv:ServicePackLevel ; skos:prefLabel "SP{n}"@en , "SP{n}"@ja ; '
            f"hv:servicePackNumber {n} .\n"
            for n in range(5)
        ),
    ]
    return "".join(parts)


def product(writer: Writer, number: int) -> str:
    iri = f"kg:syn-product-{number}"
    return writer.passage(
        f"kg:p-syn-product-{number}", f"合成製品{number}はハイパーバイザ型の仮想化製品である。", "製品"
    ) + (
        f"{iri} a hv:Product ; skos:prefLabel {literal(f'Synthetic Virtualizer {number}')}@en , "
        f"{literal(f'合成仮想化製品 {number}')}@ja ;\n"
        f"    hv:architectureStyle kg:{'hypervisor' if number % 3 else 'hosted'}-style ; "
        f"prov:wasDerivedFrom kg:p-syn-product-{number} .\n"
    )


def operating_system(writer: Writer, s: System, products: int) -> str:
    os_iri = f"kg:syn-os-{s.number}"
    editions = EDITIONS[: 2 + s.number % 3]
    out = [
        writer.passage(f"kg:p-syn-{s.number}-os", f"{s.ja}には{len(editions)}つのエディションがある。", s.ja),
        f"{os_iri} a hv:OperatingSystem ; skos:prefLabel {literal(s.en)}@en , {literal(s.ja)}@ja ;\n"
        f"    skos:altLabel {literal(s.short)}@en ; prov:wasDerivedFrom kg:p-syn-{s.number}-os .\n",
    ]
    for key, (en, ja) in enumerate(editions):
        out.append(
            f"{os_iri}-e{key} a hv:Edition ; skos:prefLabel {literal(en)}@en , {literal(ja)}@ja ;\n"
            f"    hv:editionOf {os_iri} ; prov:wasDerivedFrom kg:p-syn-{s.number}-os .\n"
        )
    # Its releases at the service-pack levels its rows name (a row covers the releases of its levels).
    for n in range(1, 4):
        out.append(
            f"{os_iri}-sp{n} a hv:Release ; skos:prefLabel {literal(f'{s.en} SP{n}')}@en , "
            f"{literal(f'{s.ja} SP{n}')}@ja ;\n"
            f"    hv:releaseOf {os_iri} ; hv:servicePackLevel kg:service-pack-{n} ;\n"
            f'    hv:asOf "2008-08"^^xsd:gYearMonth ; prov:wasDerivedFrom kg:p-syn-{s.number}-os .\n'
        )
    # Every system is a guest of hyper-v and of one synthetic product, on both architectures.
    owners = ["hyper-v", f"syn-product-{s.number % products}"] if products else ["hyper-v"]
    for owner in owners:
        for arch in ("x86", "x64"):
            # service pack 0 (none) stands alone: a row names service packs or none (hv:ServicePackZeroShape)
            packs = sorted({max(1, s.number % 3), 1 + s.number % 3})
            most = 1 + (s.number + len(arch) + len(owner)) % 4
            passage = f"kg:p-syn-{s.number}-{owner}-{arch}"
            row = f"kg:syn-row-{s.number}-{owner}-{arch}"
            sps = "/".join(f"SP{n}" if n else "SPなし" for n in packs)
            out.append(writer.passage(passage, f"{s.ja} {sps}({arch})| {most} |", f"{owner}の対応ゲストOS"))
            out.append(
                f"{row} a hv:GuestSupport ;\n"
                f"    skos:prefLabel {literal(f'{s.en} ({arch}) on {owner}: up to {most}')}@en , "
                f"{literal(f'{s.ja}({arch}) {owner} 最大{most}')}@ja ;\n"
                f"    hv:product kg:{owner} ; hv:operatingSystem {os_iri} ;\n"
                f"    hv:edition {' , '.join(f'{os_iri}-e{k}' for k in range(len(editions)))} ;\n"
                f"    hv:servicePack {' , '.join(str(n) for n in packs)} ; hv:architecture kg:{arch} ;\n"
                f"    hv:coversRelease {' , '.join(f'{os_iri}-sp{n}' for n in packs)} ;\n"
                f"    hv:maxVirtualProcessors {most} ; hv:rowNumber {writer.row_number(owner)} ;\n"
                f'    hv:asOf "2008-08"^^xsd:gYearMonth ;\n'
                f"    prov:wasDerivedFrom {passage} .\n"
            )
    return "".join(out)


def systems_for(triples: int) -> tuple[int, int]:
    """(operating systems, synthetic products) for about `triples` triples in the served graph."""
    budget = max(0, triples - ontology_triples() - FIXED_TRIPLES)
    products = min(PRODUCTS, budget // 5000)
    budget -= products * 10
    per_system = TRIPLES_PER_SYSTEM if products else TRIPLES_PER_SYSTEM // 2 + 5
    return max(1, budget // per_system), products


def chunks(count: int, size: int) -> Iterator[range]:
    for start in range(0, count, size):
        yield range(start, min(count, start + size))


def generate(directory: Path, triples: int) -> int:
    """Write the catalogue; return how many operating systems it has."""
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "graph" / "facts").mkdir(parents=True)
    (directory / "graph" / "sources").mkdir()
    shutil.copytree(ROOT / "ontology", directory / "ontology")
    shutil.copytree(ROOT / "queries", directory / "queries")
    count, products = systems_for(triples)
    writer = Writer()
    facts = directory / "graph" / "facts"
    head = fixed(writer) + "".join(product(writer, n) for n in range(products))
    (facts / "products.ttl").write_text(head, encoding="utf-8")
    for number, part in enumerate(chunks(count, FILES_EVERY)):
        body = "".join(operating_system(writer, system(n), products) for n in part)
        (facts / f"systems-{number:04d}.ttl").write_text(PREFIXES + body, encoding="utf-8")
    # sources.ttl holds the passages in the article's layout; here they are written beside their facts, so
    # sources.ttl only says what the catalogue is.
    (directory / "graph" / "sources.ttl").write_text(
        PREFIXES + "# The passages of the synthetic catalogue are written beside the facts they support.\n",
        encoding="utf-8",
    )
    (directory / "graph" / "sources" / "synthetic.txt").write_text("\n".join(writer.quotes) + "\n", encoding="utf-8")
    return count


EDITS = ("value", "system", "invalid")


def edit(directory: Path, kind: str = "value") -> str:
    """Edit one facts file of a catalogue as an analyst would, and say what was done:
    value    one guest row's maximum of virtual processors raised by one (still valid);
    system   one more operating system, with its editions, releases, rows and passages, appended (still valid:
             its quotes are appended to the source text too);
    invalid  one guest row's maximum set to 0 (hv:GuestSupportShape refuses it)."""
    facts = sorted((directory / "graph" / "facts").glob("systems-*.ttl"))
    path = facts[len(facts) // 2]
    text = path.read_text(encoding="utf-8")
    name = f"{path.relative_to(directory)}"
    if kind == "system":
        writer = Writer()
        source = directory / "graph" / "sources" / "synthetic.txt"
        writer.quotes = source.read_text(encoding="utf-8").splitlines()
        number = sum(f.read_text(encoding="utf-8").count(" a hv:OperatingSystem ") for f in facts)
        products = (directory / "graph" / "facts" / "products.ttl").read_text(encoding="utf-8").count(" a hv:Product ")
        for owner in ("hyper-v", *(f"syn-product-{n}" for n in range(products - 1))):
            writer.row_numbers[owner] = text.count(f"hv:product kg:{owner} ;") + 10_000  # past every row
        path.write_text(text + operating_system(writer, system(number), products - 1), encoding="utf-8")
        source.write_text("\n".join(writer.quotes) + "\n", encoding="utf-8")
        return f"{name}: operating system {number} added"
    found = re.search(r"hv:maxVirtualProcessors (\d+) ;", text)
    assert found is not None, path
    value = 0 if kind == "invalid" else int(found[1]) + 1
    path.write_text(text[: found.start(1)] + str(value) + text[found.end(1) :], encoding="utf-8")
    return f"{name}: hv:maxVirtualProcessors {found[1]} -> {value}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--check", action="store_true", help="count the triples with pyoxigraph afterwards")
    parser.add_argument("--edit", choices=EDITS, help="edit one facts file of an existing catalogue instead")
    args = parser.parse_args()
    if args.edit:
        print(edit(args.directory, args.edit))
        return 0
    count = generate(args.directory, args.triples)
    print(f"{args.directory}: {count} operating systems")
    if args.check:
        import pyoxigraph as ox

        store = ox.Store()
        for path in [args.directory / "ontology" / "hvkg.ttl", args.directory / "graph" / "sources.ttl"]:
            store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
        for path in sorted((args.directory / "graph" / "facts").glob("*.ttl")):
            store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
        print(f"{len(store)} triples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
