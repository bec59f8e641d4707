"""The words of `hvkg --help`, in English and Japanese: what each command does and what each option means.

`hvkg COMMAND --help --lang ja` prints them in Japanese (server/cli/parser.py picks the language before it
builds the parser). An option's choices and default are filled in by argparse from the option itself
(`%(choices)s`, `%(default)s`), so the help cannot drift from what the parser accepts.
"""

from __future__ import annotations

from graph.model import Text

HELP: dict[str, Text] = {
    # the program and its options
    "hvkg": {
        "en": "The Hyper-V knowledge graph (one article of 2008-08): its questions as tables, compatibility "
        "checks, SPARQL, exports and the service. Every fact is printed with the passage it cites.",
        "ja": "Hyper-Vのナレッジグラフ(2008年8月の記事1本)。質問への答えを表で、互換性の判定、SPARQL、"
        "書き出し、サービスを提供します。事実はすべて出典の引用付きで表示します。",
    },
    "data": {
        "en": "the project root holding ontology/, graph/ and queries/ (default: the checkout hvkg runs from)",
        "ja": "ontology/、graph/、queries/ を含むプロジェクトのルート(既定: hvkg のあるチェックアウト)",
    },
    "command": {
        "en": "the command; `hvkg COMMAND --help` explains each",
        "ja": "コマンド。各コマンドの説明は `hvkg コマンド --help` で表示します",
    },
    "examples": {"en": "examples:", "ja": "例:"},
    # options shared by the question commands
    "lang": {
        "en": "the language of the output and of the messages: %(choices)s (English, Japanese; default %(default)s)",
        "ja": "出力とメッセージの言語: %(choices)s(英語、日本語。既定は %(default)s)",
    },
    "json": {
        "en": "print the answer as JSON for scripts (indented, keys sorted, labels in both languages, each fact "
        "with its evidence) instead of a table",
        "ja": "表の代わりにスクリプト向けのJSONで出力します(字下げ付き、キーは整列、ラベルは両言語、"
        "事実ごとに出典付き)",
    },
    "product": {
        "en": "the product, by id or name: hyper-v, virtual-server-2005-r2, vmware-esx, ... (default %(default)s)",
        "ja": "製品のIDまたは名前: hyper-v、virtual-server-2005-r2、vmware-esx など(既定は %(default)s)",
    },
    # serve, validate, export, docs, reload
    "serve": {
        "en": "start the service (GraphQL, SPARQL, pages)",
        "ja": "サービスを起動します(GraphQL、SPARQL、ページ)",
    },
    "serve.description": {
        "en": "Serve the graph over HTTP: /graphql, /sparql, /id/... pages, /docs/, /healthz and /metrics. "
        "Configuration beyond these options is by HVKG_* environment variables (docs/operations.md).",
        "ja": "グラフをHTTPで提供します: /graphql、/sparql、/id/... のページ、/docs/、/healthz、/metrics。"
        "これ以外の設定は環境変数 HVKG_* で行います(docs/operations.md)。",
    },
    "host_address": {
        "en": "the address to listen on (default %(default)s; 0.0.0.0 for every interface)",
        "ja": "待ち受けるアドレス(既定は %(default)s。すべてのインターフェースなら 0.0.0.0)",
    },
    "port": {"en": "the TCP port to listen on (default %(default)s)", "ja": "待ち受けるTCPポート(既定は %(default)s)"},
    "workers": {
        "en": "the number of server processes, each with its own copy of the graph (default %(default)s)",
        "ja": "サーバのプロセス数。プロセスごとにグラフを持ちます(既定は %(default)s)",
    },
    "validate": {
        "en": "load and validate the graph; exit 1 on any violation",
        "ja": "グラフを読み込んで検証します。違反があれば終了コード1",
    },
    "validate.description": {
        "en": "Load every Turtle file, check the SHACL shapes, the violation queries and the verbatim quotes, and "
        "print the graph's size and content hash; each problem is printed with its file, resource and rule.",
        "ja": "すべてのTurtleファイルを読み込み、SHACLシェイプ、違反クエリ、引用の一致を検証して、"
        "グラフの大きさと内容ハッシュを表示します。問題はファイル・リソース・規則とともに表示します。",
    },
    "export": {"en": "write the whole graph as RDF", "ja": "グラフ全体をRDFで書き出します"},
    "export.description": {
        "en": "Write the whole graph in an RDF format. The output is byte-identical for the same graph: triples "
        "sorted, blank nodes named from their content, prefixes from the graph.",
        "ja": "グラフ全体をRDFの形式で書き出します。同じグラフなら出力はバイト単位で同一です"
        "(トリプルは整列、空白ノードは内容から命名、接頭辞はグラフのもの)。",
    },
    "export_format": {
        "en": "the RDF format: %(choices)s (default %(default)s); trig and nquads give one named graph per source",
        "ja": "RDFの形式: %(choices)s(既定は %(default)s)。trig と nquads は出典ごとの名前付きグラフです",
    },
    "output": {
        "en": "write to this file instead of standard output",
        "ja": "標準出力の代わりにこのファイルに書き出します",
    },
    "docs": {"en": "write the static documentation site", "ja": "静的なドキュメントサイトを書き出します"},
    "docs.description": {
        "en": "Write the documentation site (matrices, licensing, storage, comparison, diagrams, glossary, "
        "ontology reference, sources) as static HTML to OUT; byte-identical for the same graph.",
        "ja": "ドキュメントサイト(対応表、ライセンス、記憶装置、比較、図、用語集、オントロジー、出典)を"
        "静的なHTMLとして OUT に書き出します。同じグラフなら同一の出力です。",
    },
    "docs_out": {"en": "the folder to write the site into", "ja": "サイトを書き出すフォルダ"},
    "docs_lang": {
        "en": "the site's languages: %(choices)s (default %(default)s)",
        "ja": "サイトの言語: %(choices)s(既定は %(default)s)",
    },
    "reload": {
        "en": "ask a running server to load the data again (SIGHUP)",
        "ja": "起動中のサーバにデータの再読み込みを指示します(SIGHUP)",
    },
    "reload.description": {
        "en": "Send SIGHUP to a running `hvkg serve`: it loads and validates the data again and swaps it in whole; "
        "a broken edit keeps the old graph serving.",
        "ja": "起動中の `hvkg serve` に SIGHUP を送ります。データを読み込み直して検証し、まとめて差し替えます。"
        "不正な編集なら元のグラフで提供を続けます。",
    },
    "publish": {
        "en": "load the snapshot into a shared SPARQL store (HVKG_SPARQL_ENDPOINT)",
        "ja": "スナップショットを共有 SPARQL ストアに読み込みます(HVKG_SPARQL_ENDPOINT)",
    },
    "publish.description": {
        "en": "Load the validated snapshot into a SPARQL store under graphs named by its content hash, its "
        "catalogue entry written last, so a service reading it never sees half a graph: an Oxigraph server's "
        "Graph Store URL (http://HOST:PORT/store) or Virtuoso's bulk loader (isql://USER:PASSWORD@HOST:PORT?dir=DIR). "
        "Publishing the same snapshot again does nothing.",
        "ja": "検証済みスナップショットを、内容ハッシュで名付けたグラフとして SPARQL ストアに読み込みます。目録は最後に"
        "書くため、読む側が半端なグラフを見ることはありません。Oxigraph サーバの Graph Store URL "
        "(http://HOST:PORT/store)か Virtuoso の一括ローダー(isql://USER:PASSWORD@HOST:PORT?dir=DIR)。"
        "同じスナップショットの再公開は何もしません。",
    },
    "store_url": {
        "en": "the store: http(s)://HOST:PORT/store (Graph Store Protocol) or isql://USER:PASSWORD@HOST:PORT?dir=DIR",
        "ja": "ストア: http(s)://HOST:PORT/store(Graph Store Protocol)または isql://USER:PASSWORD@HOST:PORT?dir=DIR",
    },
    "keep": {
        "en": "keep only the N newest published snapshots, removing older ones (default: keep all)",
        "ja": "公開済みスナップショットを新しい N 個だけ残し、古いものを削除します(既定: すべて残す)",
    },
    "pid": {
        "en": "the server's process id (default: the one in its pid file, HVKG_PID_FILE)",
        "ja": "サーバのプロセスID(既定: PIDファイル HVKG_PID_FILE に書かれたもの)",
    },
    # check
    "check": {
        "en": "a compatibility verdict with its reasons and quotes",
        "ja": "互換性の判定を、理由と引用付きで表示します",
    },
    "check.description": {
        "en": "Can this guest run on the product, or can this operating system host it? Prints the verdict, how "
        "the question was read, and each reason with the passages it rests on. Exit 0 supported, 1 not supported.",
        "ja": "このゲストOSは製品上で動くか、このOSは製品のホストになれるかを判定します。判定、質問の解釈、"
        "理由とその出典を表示します。終了コードはサポート対象なら0、対象外なら1。",
    },
    "kind": {"en": "guest or host", "ja": "guest(ゲスト)または host(ホスト)"},
    "check_guest": {"en": "can this guest OS run on the product?", "ja": "このゲストOSは製品上で動くか"},
    "check_host": {"en": "can this OS host the product?", "ja": "このOSは製品のホストになれるか"},
    "os": {
        "en": "the operating system as people write it: 'Windows XP', 'XP SP3', 'Windows Vista Ultimate SP1', ...",
        "ja": "OSの名前(ふだんの書き方で): 'Windows XP'、'XP SP3'、'ウィンドウズ XP' など",
    },
    "guest_edition": {
        "en": "the edition (Professional, Enterprise, ...); default: any edition of the row",
        "ja": "エディション(Professional、Enterprise など)。既定: 行のどのエディションでもよい",
    },
    "host_edition": {
        "en": "the edition: Standard, Enterprise or Datacenter (or another name of the graph)",
        "ja": "エディション: Standard、Enterprise、Datacenter(グラフにある別名も可)",
    },
    "sp": {
        "en": "the service pack: 2, SP2, 'Service Pack 2'; 0, none or RTM for none (default %(default)s)",
        "ja": "Service Pack: 2、SP2、'Service Pack 2'。SPなしは 0、none、なし(既定は %(default)s)",
    },
    "arch": {
        "en": "the architecture: x86 or x64, or another name of them (32-bit, 64-bit, amd64, ...)",
        "ja": "アーキテクチャ: x86 または x64(32-bit、64-bit、amd64 などの別名も可)",
    },
    "vcpus": {
        "en": "the number of virtual processors (default %(default)s)",
        "ja": "仮想プロセッサ数(既定は %(default)s)",
    },
    "installation": {
        "en": "the installation: full or server-core, or another name of them (default %(default)s)",
        "ja": "インストール形態: full または server-core(別名も可。既定は %(default)s)",
    },
    # path
    "path": {
        "en": "the hops between two components, or a product's I/O path",
        "ja": "2つの構成要素の間の経路、または製品のI/O経路",
    },
    "path.description": {
        "en": "Either FROM TO: the chain of documented relations from one component to another, each hop in the "
        "direction the relation runs; or --product: the path a virtual machine's I/O takes to the hardware. "
        "Each hop is printed with its quotes. Exit 1 when there is no path.",
        "ja": "FROM TO: 構成要素から構成要素への関係の連鎖(関係の向きに沿って)、または --product: "
        "仮想マシンのI/Oがハードウェアに届く経路を表示します。各段は引用付きです。経路がなければ終了コード1。",
    },
    "from": {"en": "the first component's id (vsc, vmbus, ...)", "ja": "始点の構成要素のID(vsc、vmbus など)"},
    "to": {
        "en": "the last component's id (physical-hardware, ...)",
        "ja": "終点の構成要素のID(physical-hardware など)",
    },
    "path_product": {
        "en": "the product whose I/O path to show (hyper-v, virtual-server-2005-r2)",
        "ja": "I/O経路を表示する製品(hyper-v、virtual-server-2005-r2)",
    },
    "mode": {
        "en": "the I/O mode with --product: %(choices)s (default: the product's own)",
        "ja": "--product と使うI/O方式: %(choices)s(既定: 製品本来の方式)",
    },
    "undirected": {
        "en": "with FROM TO: also walk relations backwards (such hops are marked ←)",
        "ja": "FROM TO と使用: 関係を逆向きにもたどります(逆向きの段は ← で示します)",
    },
    # query
    "query": {
        "en": "run a SPARQL query: a named query of queries/, SPARQL text or @FILE",
        "ja": "SPARQLクエリを実行します: queries/ の名前付きクエリ、SPARQLの本文、@ファイル",
    },
    "query.description": {
        "en": "Run a read-only SPARQL query through the endpoint's own gate and print its rows as a table, IRIs "
        "as prefixed names and literals as their values. CONSTRUCT and DESCRIBE print Turtle.",
        "ja": "読み取り専用のSPARQLクエリをエンドポイントと同じ検査を通して実行し、結果を表で表示します"
        "(IRIは接頭辞付きの名前、リテラルは値)。CONSTRUCT と DESCRIBE はTurtleで表示します。",
    },
    "query_text": {
        "en": "a named query (guest-table, licensing, ...; 'Guest Table' works too), SPARQL text, or @FILE.rq",
        "ja": "名前付きクエリ(guest-table、licensing など)、SPARQLの本文、または @FILE.rq",
    },
    "query_json": {
        "en": "print the SPARQL results as JSON (application/sparql-results+json); CONSTRUCT and DESCRIBE as JSON-LD",
        "ja": "結果をSPARQLのJSON形式で出力します。CONSTRUCT と DESCRIBE はJSON-LDです",
    },
    # the questions
    "licensing": {
        "en": "virtual instances per Windows Server 2008 edition, and the downgrade rights",
        "ja": "Windows Server 2008のエディションごとの仮想インスタンス数とダウングレード権",
    },
    "licensing.description": {
        "en": "The licensing rows: how many virtual instances each edition's licence includes, with the passages "
        "they cite, then the rights to run those instances as earlier versions of Windows.",
        "ja": "ライセンスの行: 各エディションのライセンスに含まれる仮想インスタンス数を出典付きで表示し、"
        "続いて以前のバージョンのWindowsとして実行する権利を表示します。",
    },
    "storage": {"en": "the virtual disk formats of a product", "ja": "製品の仮想ディスクの形式"},
    "storage.description": {
        "en": "The storage formats a product offers: maximum size, snapshots, file extension and allocation unit, "
        "with their passages, then each format's prerequisites and migration notes.",
        "ja": "製品が提供する記憶装置の形式: 最大容量、スナップショット、拡張子、割り当て単位を出典付きで表示し、"
        "続いて各形式の前提条件と移行時の注意を表示します。",
    },
    "unsupported": {
        "en": "what the sources say cannot be a guest or a host",
        "ja": "ゲストまたはホストにできないと出典が述べているもの",
    },
    "unsupported.description": {
        "en": 'The explicit "not supported" statements of the sources, as guest and as host, each with the '
        "passage that says so.",
        "ja": "出典にある「サポート対象外」の記述を、ゲストとホストについて、その記述の出典付きで表示します。",
    },
    "role": {
        "en": "only the guests or only the hosts: %(choices)s (default: both)",
        "ja": "ゲストだけ、またはホストだけ: %(choices)s(既定: 両方)",
    },
    "unsupported_product": {
        "en": "only this product, by id or name (hyper-v, ...); default: every product",
        "ja": "この製品だけ(IDまたは名前。hyper-v など)。既定: すべての製品",
    },
    "features": {
        "en": "which features each product has, as of when",
        "ja": "各製品の機能の有無と、その時点",
    },
    "features.description": {
        "en": "The features the sources state for each product (live migration, snapshots, ...): available or not, "
        "as of which date and for which version, each with its passage.",
        "ja": "出典が製品ごとに述べている機能(ライブマイグレーション、スナップショットなど)の有無を、"
        "時点・バージョン・出典付きで表示します。",
    },
    "features_product": {
        "en": "only this product, by id or name (hyper-v, vmware-esx, ...); default: every product",
        "ja": "この製品だけ(IDまたは名前。hyper-v、vmware-esx など)。既定: すべての製品",
    },
    "search": {
        "en": "find names and passages, in English or Japanese",
        "ja": "名前と出典の一節を英語または日本語で検索します",
    },
    "search.description": {
        "en": "Everything whose names (English, Japanese, alternative) or passages match the text, best first, "
        "with the text that matched; `hvkg node ID` shows one of them whole.",
        "ja": "名前(英語、日本語、別名)または出典の一節が一致するものを、よく一致する順に、一致した箇所とともに"
        "表示します。1件の詳細は `hvkg node ID` で表示します。",
    },
    "search_text": {
        "en": "the words to look for, in English or Japanese: a name, an alias or words of a passage "
        "(VMBus, virtual hard disk)",
        "ja": "探す言葉: 名前、別名、出典の一節の言葉(VMBus、仮想ハードディスク など)",
    },
    "first": {
        "en": "at most this many hits, 1 to 100 (default %(default)s)",
        "ja": "表示する件数の上限、1から100まで(既定は %(default)s)",
    },
    "node": {
        "en": "everything the graph says about one thing",
        "ja": "1つのものについてグラフが述べていることすべて",
    },
    "node.description": {
        "en": "Every statement about one thing the graph names (a product, a table row, a rule, a passage, ...): "
        "the property, the value, how the graph knows it (stated, inferred, outside source) and its passages.",
        "ja": "グラフにあるもの(製品、表の行、規則、出典の一節など)についてのすべての記述を、プロパティ、値、"
        "根拠(記事に記載、推論、記事外の資料)、出典とともに表示します。",
    },
    "node_id": {
        "en": "the thing: its id as the tables show it (kg:vhd or vhd), a prefixed name (hv:StorageFormat, "
        "article:p-lic-01) or its full IRI",
        "ja": "対象: 表に出るID(kg:vhd または vhd)、接頭辞付きの名前(hv:StorageFormat、article:p-lic-01)、"
        "または完全なIRI",
    },
}

# Example command lines for each command's epilog (the same in both languages).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "serve": ("hvkg serve", "hvkg serve --host 0.0.0.0 --port 8080 --workers 4"),
    "validate": ("hvkg validate", "hvkg validate --lang ja"),
    "export": (
        "hvkg export --format turtle",
        "hvkg export --format json-ld -o graph.jsonld",
        "hvkg export --format trig",
    ),
    "docs": ("hvkg docs site", "hvkg docs site --lang ja"),
    "reload": ("hvkg reload", "hvkg reload --pid 4242"),
    "publish": (
        "hvkg publish http://127.0.0.1:7878/store",
        "hvkg publish 'isql://dba:dba@127.0.0.1:1111?dir=/srv/load' --keep 2",
    ),
    "check": (
        'hvkg check guest --os "Windows XP" --sp 2 --arch x86 --vcpus 2',
        'hvkg check guest --os "Windows Vista SP1 Ultimate" --arch amd64 --lang ja',
        'hvkg check host --os "Windows Server 2008" --edition Standard --arch x64 --installation server-core',
    ),
    "path": (
        "hvkg path --product hyper-v",
        "hvkg path vsc physical-hardware",
        "hvkg path physical-hardware vsc --undirected --lang ja",
    ),
    "query": ("hvkg query guest-table", "hvkg query licensing --json", "hvkg query @my-query.rq"),
    "licensing": ("hvkg licensing", "hvkg licensing --lang ja", "hvkg licensing --json"),
    "storage": ("hvkg storage", "hvkg storage --product hyper-v --lang ja", "hvkg storage --json"),
    "unsupported": ("hvkg unsupported", "hvkg unsupported --role guest --lang ja", "hvkg unsupported --json"),
    "features": ("hvkg features", "hvkg features --product vmware-esx", "hvkg features --lang ja --json"),
    "search": (
        "hvkg search VMBus",
        "hvkg search 仮想ハードディスク --lang ja",
        "hvkg search snapshot --first 5 --json",
    ),
    "node": (
        "hvkg node vhd",
        "hvkg node kg:license-windows-server-2008-datacenter --lang ja",
        "hvkg node hv:Rule --json",
    ),
}
