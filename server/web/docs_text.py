"""The words of the documentation pages and of the /id/ pages, in English and Japanese.

Labels of things come from the graph; only the pages' own words (headings, column names, notes) live here,
so a page in either language is the same template with another dictionary.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}

UI: dict[str, tuple[str, str]] = {
    # site and navigation
    "site": ("Hyper-V knowledge graph", "Hyper-V ナレッジグラフ"),
    "docs": ("Documentation", "ドキュメント"),
    "home": ("Home", "ホーム"),
    "guests": ("Guest OS", "ゲストOS"),
    "hosts": ("Host OS", "ホストOS"),
    "licensing": ("Licensing", "ライセンス"),
    "storage": ("Storage", "記憶装置"),
    "comparison": ("Comparison", "製品比較"),
    "architecture": ("Architecture", "アーキテクチャ"),
    "io_paths": ("I/O paths", "I/O経路"),
    "glossary": ("Glossary", "用語集"),
    "ontology": ("Ontology", "オントロジー"),
    "sources": ("Sources", "出典"),
    "resources": ("Index", "索引"),
    "language": ("Language", "言語"),
    "skip": ("Skip to the content", "本文へ移動"),
    # home
    "home_title": ("What the graph knows about Hyper-V", "ナレッジグラフが知っているHyper-V"),
    "home_lead": (
        "Every table and diagram on these pages is generated from the knowledge graph of an August-2008 "
        "Japanese article on Microsoft Hyper-V. Every value links to the verbatim passage it rests on.",
        "このサイトの表と図は、Microsoft Hyper-Vについての2008年8月の日本語記事から作ったナレッジグラフから"
        "生成しています。すべての値は、その根拠となる原文の引用箇所にリンクしています。",
    ),
    "contents": ("Contents", "目次"),
    "desc_guests": (
        "Which guest operating systems a virtual machine may run, with how many virtual processors.",
        "仮想マシンに導入できるゲストOSと、割り当てられる仮想プロセッサの数。",
    ),
    "desc_hosts": (
        "Which editions of Windows Server 2008 can be the host OS, and the hardware requirements.",
        "ホストOSにできるWindows Server 2008のエディションと、ハードウェア要件。",
    ),
    "desc_licensing": (
        "How many virtual instances each edition's licence includes.",
        "エディションごとのライセンスに含まれる仮想インスタンスの数。",
    ),
    "desc_storage": ("Virtual hard disks and pass-through disks.", "仮想ハードディスク形式とパス・スルー形式。"),
    "desc_comparison": (
        "Hyper-V, Virtual Server 2005 R2 and VMware ESX side by side.",
        "Hyper-V、Virtual Server 2005 R2、VMware ESX の比較。",
    ),
    "desc_architecture": ("Each product's layers, drawn from the graph.", "製品ごとの層構造の図。"),
    "desc_io_paths": (
        "The way a virtual machine's I/O takes to the hardware, hop by hop.",
        "仮想マシンのI/Oがハードウェアに届くまでの経路。",
    ),
    "desc_glossary": ("Terms and abbreviations in both languages.", "用語と略語(日英)。"),
    "desc_ontology": ("Every class and property of the vocabulary.", "語彙のすべてのクラスとプロパティ。"),
    "desc_sources": (
        "Every quoted passage and the facts that cite it.",
        "引用したすべての箇所と、それを出典とする事実。",
    ),
    "desc_resources": ("Every resource of the graph, by type.", "グラフのすべてのリソース(種類別)。"),
    "source_documents": ("Source documents", "出典の文書"),
    "snapshot": ("Generated from graph snapshot", "生成元のグラフのスナップショット"),
    "triples": ("triples", "トリプル"),
    # tables
    "product": ("Product", "製品"),
    "os": ("Operating system", "OS"),
    "editions": ("Editions", "エディション"),
    "edition": ("Edition", "エディション"),
    "service_pack": ("Service pack", "Service Pack"),
    "cpu_architecture": ("Architecture", "アーキテクチャ"),
    "max_vp": ("Max. virtual processors", "最大仮想プロセッサ数"),
    "installation": ("Installation", "インストール"),
    "as_of": ("As of", "時点"),
    "evidence": ("Sources", "出典"),
    "details": ("details", "詳細"),
    "none_named": ("none named", "指定なし"),
    "not_supported": ("Not supported", "サポート対象外"),
    "rules": ("Notes", "注意事項"),
    "virtual_instances": ("Virtual instances", "仮想インスタンス数"),
    "unlimited": ("unlimited", "無制限"),
    "format": ("Format", "形式"),
    "max_size": ("Maximum size", "最大容量"),
    "no_limit": ("no limit", "制限なし"),
    "snapshots": ("Snapshots", "スナップショット"),
    "file_extension": ("File extension", "拡張子"),
    "allocation_unit": ("Unit", "単位"),
    "prerequisites": ("Prerequisites", "前提条件"),
    "migration": ("Migration from Virtual Server", "Virtual Serverからの移行"),
    "yes": ("yes", "可"),
    "no": ("no", "不可"),
    "none": ("—", "—"),
    "hardware_requirements": ("Hardware requirements", "ハードウェア要件"),
    "outside_source": ("from a source outside the article", "記事外の資料による"),
    "downgrade": ("Downgrade rights", "ダウングレード権"),
    "advice": ("Advice", "アドバイス"),
    "architecture_style": ("Architecture style", "アーキテクチャの型"),
    "feature": ("Feature", "機能"),
    "available": ("available", "あり"),
    "unavailable": ("not available", "なし"),
    "unstated": ("not stated", "記載なし"),
    "comparisons": ("Comparisons", "比較"),
    "favors": ("favours", "優位"),
    "compared_with": ("compared with", "比較対象"),
    "about": ("about", "対象"),
    # diagrams
    "layers": ("Layers", "層"),
    "layer": ("Layer", "層"),
    "components": ("Components", "構成要素"),
    "other_components": ("Other components of this product", "この製品のその他の構成要素"),
    "relations": ("Relations", "関係"),
    "from": ("From", "始点"),
    "relation": ("Relation", "関係"),
    "to": ("To", "終点"),
    "hop": ("Hop", "順序"),
    "hops": ("Hops", "経路"),
    "io_mode": ("I/O mode", "I/O方式"),
    "diagram": ("Diagram", "図"),
    "svg_file": ("SVG file", "SVGファイル"),
    "no_layers": (
        "The sources do not describe this product's architecture, so there is no diagram.",
        "出典にはこの製品のアーキテクチャの説明がないため、図はありません。",
    ),
    "diagram_help": (
        "Boxes are components; arrows are documented relations. Click an arrow for its quote, a box for its page.",
        "箱は構成要素、矢印は記述された関係です。矢印をクリックすると引用箇所、箱をクリックするとその説明に移動します。",
    ),
    "in": ("in", "配置"),
    # glossary, ontology, sources, resources
    "term": ("Term", "用語"),
    "also_called": ("Also called", "別名"),
    "abbreviations": ("Abbreviations", "略語"),
    "definition": ("Definition", "定義"),
    "classes": ("Classes", "クラス"),
    "object_properties": ("Object properties", "オブジェクト・プロパティ"),
    "datatype_properties": ("Datatype properties", "データ型プロパティ"),
    "annotation_properties": ("Annotation properties", "注釈プロパティ"),
    "subclass_of": ("Subclass of", "上位クラス"),
    "subclasses": ("Subclasses", "下位クラス"),
    "subproperty_of": ("Subproperty of", "上位プロパティ"),
    "domain": ("Domain", "定義域"),
    "range": ("Range", "値域"),
    "characteristics": ("Characteristics", "特性"),
    "instances": ("Instances", "インスタンス"),
    "cited_by": ("Cited by", "この箇所を出典とする事実"),
    "section": ("Section", "見出し"),
    "position": ("position", "位置"),
    "publisher": ("Publisher", "発行元"),
    "document": ("Document", "文書"),
    "passages": ("passages", "箇所"),
    "type": ("Type", "種類"),
    "other": ("Other", "その他"),
    # resource pages
    "statements": ("Statements", "記述"),
    "referred_by": ("Referred to by", "参照元"),
    "passage": ("passage", "出典箇所"),
    "in_context": ("in context", "前後の文脈"),
    "also_as": ("Also as", "他の形式"),
}


def translator(lang: str) -> Callable[[str], str]:
    """`t(key)`: the page's word for `key` in `lang` (a missing key is a bug, so it raises)."""
    index = 1 if lang == "ja" else 0

    def t(key: str) -> str:
        return UI[key][index]

    return t


def as_of(date: str, lang: str) -> str:
    """ "as of 2008-08" / "2008-08時点": when a statement holds, as its source dates it."""
    return f"{date}時点" if lang == "ja" else f"as of {date}"
