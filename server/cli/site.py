"""`hvkg docs OUT`: the static documentation site (server.web.docs), written for the languages asked."""

from __future__ import annotations

import argparse

from server.cli.data import snapshot_of
from server.cli.errors import lang_of
from server.cli.tables import write
from server.cli.text import word


def cmd_docs(args: argparse.Namespace) -> int:
    from server.web.docs import write_site

    written = write_site(snapshot_of(args), args.out, args.lang)
    # --lang both writes both languages; the message is in English unless only Japanese was asked for
    write(word("wrote", lang_of(args)).format(count=len(written), out=args.out) + "\n")
    return 0
