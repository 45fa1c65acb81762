"""Query strings with raw non-ASCII bytes, made readable before Flask parses them.

A browser percent-encodes a URL, but scripts and proxies may send raw bytes
(``?q=乙烯`` in a terminal's encoding, or Latin-1). The WSGI server passes
them on as they came, and werkzeug decodes the query string as strict UTF-8
— a ``UnicodeDecodeError``, answered with a 500, for any byte sequence that
is not UTF-8. This middleware percent-encodes every byte outside printable
ASCII first: valid UTF-8 then decodes to the same text as before, and
anything else stays visibly percent-encoded, to be refused by validation
like any other bad value.
"""
from __future__ import annotations

from urllib.parse import quote

# Everything a query string may carry literally; the rest is percent-encoded.
_LITERAL = "&=+%;/:?@!$'()*,~-._[]"


class PercentEncodedQuery:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if not (query.isascii() and query.isprintable()):  # printable ASCII: space to "~"
            environ["QUERY_STRING"] = quote(query.encode("latin-1", "replace"), safe=_LITERAL)
        return self.app(environ, start_response)
