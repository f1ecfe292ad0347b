#!/usr/bin/env python3
"""Which tables and indexes a SQLite WAL's pages belong to, per commit.

    scripts/wal-pages.py DB_COPY WAL_COPY

Copy the database file and its `-wal` while the writer is idle (right after a load run, before
the server stops: closing checkpoints and deletes the WAL). Reads the WAL's frame headers
(page number, commit marker, salts), keeps the frames of the current WAL generation, and maps
page numbers to b-trees with SQLite's `dbstat` table. Pages the database file does not have
yet show as `new`.
"""
import collections
import sqlite3
import struct
import sys


def main(db: str, wal_path: str) -> None:
    wal = open(wal_path, "rb").read()
    _, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">IIIIIIII", wal[:32])
    pages, commits, off = [], 0, 32
    while off + 24 + page_size <= len(wal):
        page, commit, s1, s2 = struct.unpack(">IIII", wal[off : off + 16])
        if (s1, s2) != (salt1, salt2):
            break
        pages.append(page)
        commits += commit != 0
        off += 24 + page_size
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    owner = {page: name for name, page in con.execute("SELECT name, pageno FROM dbstat")}
    by_tree = collections.Counter(owner.get(p, "new") for p in pages)
    commits = max(commits, 1)
    print(f"{len(pages)} frames in {commits} commits: {len(pages) / commits:.1f} per commit")
    for name, n in by_tree.most_common():
        print(f"  {name:24} {n / commits:6.2f} per commit")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
