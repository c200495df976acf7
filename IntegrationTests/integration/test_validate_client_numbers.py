"""`validate` on a GridFS bucket whose files documents hold any number a client stored.

`length: Int64.max` with `chunkSize: 2` overflowed `length + chunkSize - 1` (a trap: the daemon
exited), and `chunkSize: 1` walked 2^63 chunk numbers. Both are now one warning each.
"""


def test_validate_reports_impossible_lengths_and_keeps_serving(daemon_factory) -> None:
    d = daemon_factory()
    with d.client() as client:
        db = client["numbers"]
        db.fs.files.insert_many([
            {"_id": 1, "length": -5, "chunkSize": 255},
            {"_id": 2, "length": 2**63 - 1, "chunkSize": 1},
            {"_id": 3, "length": 2**63 - 1, "chunkSize": 2},
        ])
        db.fs.chunks.insert_one({"files_id": 1, "n": 0, "data": b"x"})
        warnings = db.command("validate", "fs.chunks", full=True)["warnings"]
        assert "file 1 has no valid length or chunkSize" in warnings
        assert "file 2 declares 9223372036854775807 chunks and has 0" in warnings
        assert "file 3 declares 4611686018427387904 chunks and has 0" in warnings
        assert client.admin.command("ping")["ok"] == 1.0
