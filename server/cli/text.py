"""The command line's own words, in English and Japanese: what `hvkg` prints around the graph's words.

Names, labels, relations and reasons come from the graph (graph/ builds each message as a `Text`, "en"/"ja");
only the fixed words that `hvkg` puts around them live here (verdicts, table headings, yes / no), so
`--lang ja` prints no English word of its own. Messages that carry values (a bad `--sp`, an unknown query)
are built where they are raised, as graph/ does. The words of `--help` are in server/cli/help_text.py.
"""

from __future__ import annotations

from graph.model import Text, text

WORDS: dict[str, Text] = {
    # check and path
    "supported": {"en": "supported", "ja": "サポート対象"},
    "not_supported": {"en": "not supported", "ja": "サポート対象外"},
    "read_as": {"en": "read as", "ja": "質問の解釈"},
    "no_service_pack": {"en": "no service pack", "ja": "SPなし"},
    "max_virtual_processors": {"en": "max virtual processors", "ja": "最大仮想プロセッサ数"},
    "integration_services": {"en": "integration services", "ja": "統合サービス"},
    "available": {"en": "yes", "ja": "利用可"},
    "unavailable": {"en": "no", "ja": "利用不可"},
    "io_path": {"en": "I/O path", "ja": "I/O経路"},
    "no_path": {"en": "no path", "ja": "経路なし"},
    # errors
    "error": {"en": "error", "ja": "エラー"},
    "invalid_graph": {"en": "INVALID: the graph is not served.", "ja": "不正なグラフです。提供しません。"},
    "interrupted": {"en": "interrupted", "ja": "中断しました"},
    "internal_error": {
        "en": "internal error (a bug in hvkg); run with HVKG_DEBUG=1 for the details",
        "ja": "内部エラー(hvkgの不具合)です。詳細は HVKG_DEBUG=1 を付けて実行してください",
    },
    # the tables' titles
    "licensing_title": {"en": "Virtual instances per edition", "ja": "エディションごとの仮想インスタンス数"},
    "downgrade_title": {"en": "Downgrade rights", "ja": "ダウングレード権"},
    "storage_title": {"en": "Storage formats", "ja": "記憶装置の形式"},
    "storage_notes_title": {"en": "Prerequisites and migration notes", "ja": "前提条件と移行時の注意"},
    "unsupported_title": {"en": "Not supported", "ja": "サポート対象外"},
    "features_title": {"en": "Features", "ja": "機能"},
    "search_title": {"en": "Search results", "ja": "検索結果"},
    "sources_title": {"en": "Sources", "ja": "出典"},
    # the tables' headings
    "id": {"en": "id", "ja": "識別子"},
    "edition": {"en": "edition", "ja": "エディション"},
    "virtual_instances": {"en": "virtual instances", "ja": "仮想インスタンス数"},
    "as_of": {"en": "as of", "ja": "時点"},
    "sources": {"en": "sources", "ja": "出典"},
    "format": {"en": "format", "ja": "形式"},
    "max_size_gb": {"en": "max size (GB)", "ja": "最大容量(GB)"},
    "snapshots": {"en": "snapshots", "ja": "スナップショット"},
    "file_extension": {"en": "file extension", "ja": "拡張子"},
    "allocation_unit": {"en": "allocation unit", "ja": "割り当て単位"},
    "note": {"en": "note", "ja": "注記"},
    "kind": {"en": "kind", "ja": "種別"},
    "prerequisite": {"en": "prerequisite", "ja": "前提条件"},
    "migration_note": {"en": "migration note", "ja": "移行時の注意"},
    "role": {"en": "role", "ja": "役割"},
    "guest": {"en": "guest", "ja": "ゲスト"},
    "host": {"en": "host", "ja": "ホスト"},
    "statement": {"en": "statement", "ja": "記述"},
    "product": {"en": "product", "ja": "製品"},
    "feature": {"en": "feature", "ja": "機能"},
    "availability": {"en": "available", "ja": "有無"},
    "version": {"en": "version", "ja": "バージョン"},
    "applies_to": {"en": "applies to", "ja": "対象"},
    "type": {"en": "type", "ja": "種類"},
    "name": {"en": "name", "ja": "名前"},
    "matched": {"en": "matched text", "ja": "一致した箇所"},
    "property": {"en": "property", "ja": "プロパティ"},
    "value": {"en": "value", "ja": "値"},
    "basis": {"en": "basis", "ja": "根拠"},
    "rule": {"en": "rule", "ja": "規則"},
    # values
    "yes": {"en": "yes", "ja": "はい"},
    "no": {"en": "no", "ja": "いいえ"},
    "unlimited": {"en": "unlimited", "ja": "無制限"},
    "STATED": {"en": "stated", "ja": "記事に記載"},
    "INFERRED": {"en": "inferred", "ja": "推論"},
    "OUTSIDE": {"en": "outside source", "ja": "記事外の資料"},
    "no_rows": {"en": "(no rows)", "ja": "(該当なし)"},
    "nothing_found": {"en": "nothing matches", "ja": "一致するものはありません"},
    "node_evidence": {"en": "rests on", "ja": "根拠の出典"},
    "wrote": {"en": "wrote {count} files to {out}", "ja": "{out} に {count} 個のファイルを書き出しました"},
}

# Between the items of a list in one cell ("Standard, Enterprise" / "Standard、Enterprise")
SEPARATOR: Text = {"en": ", ", "ja": "、"}

# The fixed words of Python's argparse (3.11), for `--help` and the parser's errors under `--lang ja`
# (server/cli/parser.py). A message missing here, or changed in a later Python, stays argparse's English.
ARGPARSE_JA: dict[str, str] = {
    "usage: ": "使い方: ",
    "positional arguments": "位置引数",
    "options": "オプション",
    "show this help message and exit": "このヘルプを表示して終了します",
    "%(prog)s: error: %(message)s\n": "%(prog)s: エラー: %(message)s\n",
    "the following arguments are required: %s": "次の引数を指定してください: %s",
    "argument %(argument_name)s: %(message)s": "引数 %(argument_name)s: %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "%(value)r は指定できません(選択肢: %(choices)s)",
    "unrecognized arguments: %s": "不明な引数です: %s",
    "expected one argument": "値を1つ指定してください",
    "invalid %(type)s value: %(value)r": "%(value)r は %(type)s の値として読めません",
    "ambiguous option: %(option)s could match %(matches)s": "%(option)s はあいまいです(候補: %(matches)s)",
    "not allowed with argument %s": "引数 %s と同時には指定できません",
    "one of the arguments %s is required": "引数 %s のいずれかを指定してください",
    "ignored explicit argument %r": "引数 %r は無視されました",
}


def word(key: str, lang: str) -> str:
    return text(WORDS[key], lang)
