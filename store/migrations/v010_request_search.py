"""v10: searching batch requests uses an index (issue 23 item 6).

``GET /batches?q=`` matched ``user_request LIKE '%…%'``, which walks every
batch newest first until it has a page: a search for something rare reads
the whole table. An FTS5 table with the trigram tokenizer indexes every
three-character sequence of each request (any script: 乙烯催化, Cu–Mo, C2H4),
case-insensitively, so a substring of three or more characters is an index
search. It holds only the index (``content='batches'``); a trigger adds each
new batch (requests never change, batches are never deleted). Shorter queries
(two CJK characters, "Cu") still walk, a page at a time: docs/PERFORMANCE.md.

On PostgreSQL the same searches use a trigram GIN index (``pg_trgm``, a
trusted extension the database's owner may create), which ``ILIKE '%…%'``
uses for three or more characters.
"""
VERSION = 10
DESCRIPTION = "batches_fts: FTS5 trigram index of batches.user_request"

STATEMENTS = (
    "CREATE VIRTUAL TABLE batches_fts USING fts5(user_request, content='batches', "
    "content_rowid='seq', tokenize='trigram')",
    "INSERT INTO batches_fts (batches_fts) VALUES ('rebuild')",
    """CREATE TRIGGER batches_fts_after_insert AFTER INSERT ON batches BEGIN
           INSERT INTO batches_fts (rowid, user_request) VALUES (NEW.seq, NEW.user_request);
       END""",
)

POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX batches_request_trigrams ON batches USING gin (user_request gin_trgm_ops)",
)
