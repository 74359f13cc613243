"""store_sql.py - the SQL text of the store's query files, read from the
source: every run of adjacent C string literals (and the string macros
among them, such as OZ_RESULT_COLS) in scheduler/store/store_*.c that
reads as an SQL statement, with the file and line it starts on.  For
pg_statements.py, which prepares each on PostgreSQL and on SQLite; run
alone (`python3 store_sql.py ROOT`) it prints them.
"""
import glob
import os
import re
import sys

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z_0-9]*|\S')
SQL_START = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|REPLACE|VALUES)\b")


def strip_comments(src):
    """src with comments blanked (line numbers kept) and strings untouched."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src[i] in "\"'":
            q, j = src[i], i + 1
            while j < n and src[j] != q:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


def unquote(lit):
    return bytes(lit[1:-1], "utf-8").decode("unicode_escape")


def tokens(src):
    """(token, line) for src's tokens, preprocessor lines dropped."""
    line = 1
    pos = 0
    for m in TOKEN.finditer(src):
        line += src.count("\n", pos, m.start())
        pos = m.start()
        yield m.group(0), line


def string_macros(paths):
    """NAME -> text for every object-like #define made of string literals
    and such macros (in any order of definition)."""
    raw = {}
    for p in paths:
        src = strip_comments(open(p).read()).replace("\\\n", " ")
        for m in re.finditer(r"^\s*#\s*define\s+([A-Za-z_]\w*)[ \t]+(.+)$", src, re.M):
            raw[m.group(1)] = re.findall(r'"(?:[^"\\]|\\.)*"|\S+', m.group(2))
    macros, grew = {}, True
    while grew:
        grew = False
        for name, parts in raw.items():
            if name not in macros and parts and all(
                    x.startswith('"') or x in macros for x in parts):
                macros[name] = "".join(unquote(x) if x.startswith('"') else macros[x]
                                       for x in parts)
                grew = True
    return macros


def statements(root):
    """[(file:line, sql)] for the query files under root, in order."""
    store = os.path.join(root, "scheduler", "store")
    files = sorted(glob.glob(os.path.join(store, "store_*.c")))
    macros = string_macros([os.path.join(store, "store_internal.h")] + files)
    found = []
    for p in files:
        src = strip_comments(open(p).read())
        src = re.sub(r"^\s*#.*(\\\n.*)*$", lambda m: "\n" * m.group(0).count("\n"), src,
                     flags=re.M)
        run, start = None, 0
        for tok, line in list(tokens(src)) + [(";", 0)]:
            piece = unquote(tok) if tok.startswith('"') else macros.get(tok)
            if piece is not None:
                if run is None:
                    run, start = "", line
                run += piece
                continue
            if run is not None and SQL_START.match(run):
                found.append((f"{os.path.relpath(p, root)}:{start}", run))
            run = None
    return found


if __name__ == "__main__":
    for where, sql in statements(sys.argv[1]):
        print(f"{where}: {sql}")
