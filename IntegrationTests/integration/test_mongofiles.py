"""mongofiles' traffic (Go driver), reproduced command by command with pymongo.

The sequences follow what mongofiles 100.x sends (see wire-facts.md): `list`, `search`, `put` (chunks
inserted 64 per message, writeConcern majority, createIndexes on files without `unique`), `put
--replace`, `put_id` with ids from extended JSON, `get`, `get a b` ($in), `get_id`, `get_regex`,
`delete`, `delete_id`, and `--prefix`. The replies are checked the way the Go driver reads them
(int64 cursor ids, `n` from write replies, chunk `n` as int32).
"""

from __future__ import annotations

import datetime
import hashlib
import re
from typing import Any

import pytest
from bson import Int64, ObjectId, json_util

from gridfs_support import fresh_database, pattern_bytes

CHUNK_SIZE = 255 * 1024
CHUNKS_PER_INSERT = 64  # the Go driver's 16 MiB upload buffer holds 64 chunks of 255 KiB
MAJORITY = {"w": "majority"}
_GO_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def quote_meta(text: str) -> str:
    """Go's regexp.QuoteMeta: a backslash before every regular-expression metacharacter."""
    return _GO_META.sub(r"\\\1", text)


class Mongofiles:
    """One mongofiles invocation's commands against a database, with bucket prefix `prefix`."""

    def __init__(self, client, db_name: str, prefix: str = "fs") -> None:
        self.client = client
        self.db = client[db_name]
        self.files = f"{prefix}.files"
        self.chunks = f"{prefix}.chunks"
        admin = client.admin
        for command in ({"ping": 1}, {"ismaster": 1}, {"ping": 1}):
            reply = admin.command(command)
            assert reply["ok"] == 1.0

    # --- plumbing --------------------------------------------------------------------------------

    def command(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.db.command(body)
        assert reply["ok"] == 1.0, reply
        assert "writeErrors" not in reply, reply
        return reply

    def find(self, coll: str, filter: dict, **options: Any) -> list[dict]:
        reply = self.command({"find": coll, "filter": filter, **options})
        cursor = reply["cursor"]
        docs = list(cursor["firstBatch"])
        assert cursor["ns"] == f"{self.db.name}.{coll}"
        while cursor["id"] != 0:
            assert isinstance(cursor["id"], Int64), "the Go driver rejects an int32 cursor id"
            cursor = self.command({"getMore": cursor["id"], "collection": coll})["cursor"]
            docs.extend(cursor["nextBatch"])
        assert isinstance(cursor["id"], Int64)
        return docs

    def ensure_indexes(self) -> None:
        if self.find(self.files, {}, projection={"_id": 1}, limit=1):
            return
        for coll in (self.files, self.chunks):
            try:
                self.db.command({"listIndexes": coll})
            except Exception as error:  # NamespaceNotFound on a new bucket: the driver swallows it
                assert getattr(error, "code", None) == 26, error
        self.command({"createIndexes": self.files, "writeConcern": MAJORITY, "indexes": [
            {"key": {"filename": 1, "uploadDate": 1}, "name": "filename_1_uploadDate_1"}]})
        self.command({"createIndexes": self.chunks, "writeConcern": MAJORITY, "indexes": [
            {"key": {"files_id": 1, "n": 1}, "name": "files_id_1_n_1", "unique": True}]})

    # --- subcommands -----------------------------------------------------------------------------

    def put(self, name: str, data: bytes, file_id: Any = None, replace: bool = False,
            content_type: str | None = None) -> Any:
        if replace:
            for doc in self.find(self.files, {"filename": name}):
                self.delete_id(doc["_id"])
        self.ensure_indexes()
        file_id = ObjectId() if file_id is None else file_id
        chunks = [{"_id": ObjectId(), "files_id": file_id, "n": n, "data": data[i:i + CHUNK_SIZE]}
                  for n, i in enumerate(range(0, len(data), CHUNK_SIZE))]
        for start in range(0, len(chunks), CHUNKS_PER_INSERT):
            batch = chunks[start:start + CHUNKS_PER_INSERT]
            reply = self.command({"insert": self.chunks, "documents": batch, "ordered": True,
                                  "writeConcern": MAJORITY})
            assert reply["n"] == len(batch)
        files_doc: dict[str, Any] = {"_id": file_id, "length": Int64(len(data)), "chunkSize": CHUNK_SIZE,
                                     "uploadDate": datetime.datetime.now(datetime.timezone.utc)
                                     .replace(microsecond=0, tzinfo=None), "filename": name}
        if content_type:
            files_doc["metadata"] = {"contentType": content_type}
        assert self.command({"insert": self.files, "documents": [files_doc], "ordered": True,
                             "writeConcern": MAJORITY})["n"] == 1
        return file_id

    def list(self, prefix: str = "") -> list[tuple[str, int]]:
        filter = {"filename": {"$regex": "^" + quote_meta(prefix)}} if prefix else {}
        return sorted((d["filename"], d["length"]) for d in self.find(self.files, filter))

    def search(self, pattern: str) -> list[str]:
        return sorted(d["filename"] for d in self.find(self.files, {"filename": {"$regex": pattern}}))

    def download(self, files_doc: dict) -> bytes:
        chunks = self.find(self.chunks, {"files_id": files_doc["_id"]}, sort={"n": 1})
        for n, chunk in enumerate(chunks):
            assert type(chunk["n"]) is int and chunk["n"] == n, "Go reads n as int32 or int64"
        data = b"".join(c["data"] for c in chunks)
        assert len(data) == files_doc["length"]
        return data

    def get(self, *names: str) -> dict[str, bytes]:
        filter = {"filename": names[0]} if len(names) == 1 else {"filename": {"$in": list(names)}}
        return {d["filename"]: self.download(d) for d in self.find(self.files, filter)}

    def get_id(self, file_id: Any) -> bytes:
        docs = self.find(self.files, {"_id": file_id}, limit=1)
        assert len(docs) == 1, f"no file with _id {file_id!r}"
        return self.download(docs[0])

    def get_regex(self, pattern: str, options: str = "") -> dict[str, bytes]:
        filter = {"filename": {"$regex": pattern, "$options": options}}
        return {d["filename"]: self.download(d) for d in self.find(self.files, filter)}

    def delete(self, name: str) -> int:
        docs = self.find(self.files, {"filename": name})
        for doc in docs:
            self.delete_id(doc["_id"])
        return len(docs)

    def delete_id(self, file_id: Any) -> None:
        reply = self.command({"delete": self.files, "deletes": [{"q": {"_id": file_id}, "limit": 1}],
                              "ordered": True, "writeConcern": MAJORITY})
        assert reply["n"] == 1, f"file {file_id!r} not found"
        self.command({"delete": self.chunks, "deletes": [{"q": {"files_id": file_id}, "limit": 0}],
                      "ordered": True, "writeConcern": MAJORITY})


@pytest.fixture
def mongofiles(client, request):
    db = fresh_database(client, request, prefix="mf")
    yield lambda prefix="fs": Mongofiles(client, db.name, prefix)
    client.drop_database(db.name)


NAMES = ["a.txt", "a+b.txt", "axtxt", "b.txt", "(c)[d]{e}^$|?*.txt", "dir/a.txt"]


def test_quote_meta_matches_go() -> None:
    assert quote_meta(r"a.b+c*d?e(f)g|h[i]j{k}l^m$n\o") == r"a\.b\+c\*d\?e\(f\)g\|h\[i\]j\{k\}l\^m\$n\\o"
    assert quote_meta("plain-name_1 /x") == "plain-name_1 /x"


def test_list_with_and_without_prefix(mongofiles) -> None:
    mf = mongofiles()
    for i, name in enumerate(NAMES):
        mf.put(name, pattern_bytes(i + 1))
    assert mf.list() == sorted((n, i + 1) for i, n in enumerate(NAMES))
    assert [n for n, _ in mf.list("a.")] == ["a.txt"]  # "^a." unescaped would match axtxt too
    assert [n for n, _ in mf.list("a+")] == ["a+b.txt"]
    assert [n for n, _ in mf.list("(c)[d]{e}^$|?*")] == ["(c)[d]{e}^$|?*.txt"]
    assert [n for n, _ in mf.list("dir/")] == ["dir/a.txt"]
    assert mf.list("zzz") == []


def test_search(mongofiles) -> None:
    mf = mongofiles()
    for name in NAMES:
        mf.put(name, b"x")
    assert mf.search("txt$") == sorted(n for n in NAMES if n.endswith("txt"))
    assert mf.search("^a.t") == ["a.txt", "axtxt"]
    assert mf.search(r"\(c\)") == ["(c)[d]{e}^$|?*.txt"]
    assert mf.search("nothing") == []


def test_put_batches_and_get(mongofiles) -> None:
    mf = mongofiles()
    data = pattern_bytes(130 * CHUNK_SIZE + 17, seed=9)  # 131 chunks: inserts of 64, 64, 3
    file_id = mf.put("big.bin", data, content_type="application/octet-stream")
    got = mf.get("big.bin")
    assert hashlib.sha256(got["big.bin"]).digest() == hashlib.sha256(data).digest()
    files = mf.find(mf.files, {"_id": file_id})
    assert files[0]["metadata"] == {"contentType": "application/octet-stream"}
    assert isinstance(files[0]["length"], Int64) and type(files[0]["chunkSize"]) is int
    indexes = {ix["name"]: ix for ix in mf.db[mf.files].list_indexes()}
    assert "unique" not in indexes["filename_1_uploadDate_1"]
    chunk_indexes = {ix["name"]: ix for ix in mf.db[mf.chunks].list_indexes()}
    assert chunk_indexes["files_id_1_n_1"]["unique"] is True


def test_put_empty_file(mongofiles) -> None:
    mf = mongofiles()
    mf.put("empty", b"")
    assert mf.get("empty") == {"empty": b""}
    assert mf.list() == [("empty", 0)]


def test_put_replace(mongofiles) -> None:
    mf = mongofiles()
    mf.put("doc.txt", b"first version, longer")
    mf.put("doc.txt", b"second")
    mf.put("doc.txt", b"replacement", replace=True)
    assert mf.list() == [("doc.txt", 11)]
    assert mf.get("doc.txt") == {"doc.txt": b"replacement"}
    assert len(mf.find(mf.chunks, {})) == 1


@pytest.mark.parametrize("extended_json", ['"string-id"', "42", '{"$numberLong": "7"}',
                                           '{"$oid": "5f1a2b3c4d5e6f7a8b9c0d1e"}', '{"a": 1, "b": "x"}',
                                           '{"$date": "2020-01-02T03:04:05Z"}'])
def test_put_id_get_id_delete_id(mongofiles, extended_json: str) -> None:
    mf = mongofiles()
    file_id = json_util.loads(extended_json)
    mf.put("other", b"other file")
    mf.put("with-id", b"content by id", file_id=file_id)
    assert mf.get_id(file_id) == b"content by id"
    stored = mf.find(mf.files, {"_id": file_id})
    assert len(stored) == 1 and json_util.dumps(stored[0]["_id"]) == json_util.dumps(file_id)
    mf.delete_id(file_id)
    assert mf.find(mf.files, {"_id": file_id}) == []
    assert mf.find(mf.chunks, {"files_id": file_id}) == []
    assert [n for n, _ in mf.list()] == ["other"]


def test_get_several_names_with_in(mongofiles) -> None:
    mf = mongofiles()
    for name in ("one", "two", "three"):
        mf.put(name, name.encode() * 1000)
    got = mf.get("one", "three", "missing")
    assert got == {"one": b"one" * 1000, "three": b"three" * 1000}


def test_get_regex_with_options(mongofiles) -> None:
    mf = mongofiles()
    for name in ("Report-2020.pdf", "report-2021.PDF", "notes.txt"):
        mf.put(name, name.encode())
    assert sorted(mf.get_regex(r"^report-\d+\.pdf$", "i")) == ["Report-2020.pdf", "report-2021.PDF"]
    assert sorted(mf.get_regex(r"^report", "")) == ["report-2021.PDF"]
    assert sorted(mf.get_regex(r"notes . txt", "x")) == ["notes.txt"]


def test_delete_all_revisions(mongofiles) -> None:
    mf = mongofiles()
    for i in range(3):
        mf.put("rev.txt", f"revision {i}".encode())
    mf.put("keep.txt", b"keep")
    assert mf.delete("rev.txt") == 3
    assert mf.list() == [("keep.txt", 4)]
    assert len(mf.find(mf.chunks, {})) == 1
    assert mf.delete("rev.txt") == 0


def test_custom_prefix(mongofiles) -> None:
    mf = mongofiles("archive")
    mf.put("in-archive.txt", b"archived")
    assert {"archive.files", "archive.chunks"} <= set(mf.db.list_collection_names())
    assert "fs.files" not in mf.db.list_collection_names()
    assert mongofiles().list() == []
    assert mf.list("in-") == [("in-archive.txt", 8)]
    assert mf.get("in-archive.txt") == {"in-archive.txt": b"archived"}
    assert mf.delete("in-archive.txt") == 1
    assert mf.list() == []
