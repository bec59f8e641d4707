"""The command line's own words, in English and Japanese.

Names, labels, relations and reasons come from the graph (graph/ builds each message as a `Text`, "en"/"ja");
only the fixed words that `hvkg` puts around them live here, so `--lang ja` prints no English word of its own.
Messages that carry values (a bad `--sp`, an unknown query) are built where they are raised, as graph/ does.
"""

from __future__ import annotations

from graph.model import Text, text

WORDS: dict[str, Text] = {
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
    "error": {"en": "error", "ja": "エラー"},
    "invalid_graph": {"en": "INVALID: the graph is not served.", "ja": "不正なグラフです。提供しません。"},
    "interrupted": {"en": "interrupted", "ja": "中断しました"},
    "internal_error": {
        "en": "internal error (a bug in hvkg); run with HVKG_DEBUG=1 for the details",
        "ja": "内部エラー(hvkgの不具合)です。詳細は HVKG_DEBUG=1 を付けて実行してください",
    },
}


def word(key: str, lang: str) -> str:
    return text(WORDS[key], lang)
