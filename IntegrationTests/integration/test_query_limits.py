"""Query-side limits: a catastrophic regex fails the query (51156) instead of pinning a thread, and
huge `$in` lists (up to what a 16 MB command allows) are answered without quadratic work."""

from __future__ import annotations

import time

import pytest
from bson import Regex
from pymongo.errors import OperationFailure

from storage_helpers import unique_name

EVIL = "^(a+)+$"
VICTIM = "a" * 40 + "b"


@pytest.fixture
def coll(daemon):
    with daemon.client() as c:
        db = c[unique_name("limits")]
        yield db["c"]
        c.drop_database(db.name)


def test_a_catastrophic_regex_fails_the_query(daemon, coll):
    coll.insert_many([{"_id": i, "s": VICTIM if i % 2 else "ab"} for i in range(200)])
    for run in (
        lambda: list(coll.find({"s": {"$regex": EVIL}})),
        lambda: list(coll.find({"s": {"$in": [Regex(EVIL)]}})),
        lambda: list(coll.find({"s": {"$not": Regex(EVIL)}})),
        lambda: coll.count_documents({"s": {"$regex": EVIL}}),
        lambda: list(coll.aggregate([{"$project": {"s": 1}}, {"$match": {"s": {"$regex": EVIL}}}])),
        lambda: coll.delete_many({"s": {"$regex": EVIL}}),
        lambda: coll.update_many({"s": {"$regex": EVIL}}, {"$set": {"t": 1}}),
    ):
        with pytest.raises(OperationFailure) as failure:
            run()
        assert failure.value.code == 51156, failure.value.details
        assert "match limit exceeded" in failure.value.details["errmsg"]
    # Nothing was written by the failed writes, and ordinary regexes still work.
    assert coll.count_documents({}) == 200
    assert coll.count_documents({"t": 1}) == 0
    assert coll.count_documents({"s": {"$regex": "^a+b$"}}) == 200
    assert coll.count_documents({"s": {"$regex": "a{40}b"}}) == 100
    assert coll.database.command({"ping": 1})["ok"] == 1.0


def test_a_catastrophic_regex_in_elem_match_projections_and_pull_fails(coll):
    # The regex runs on array elements there: a PCRE2 limit is 51156 too, not "no match" (which
    # would silently drop the projected field or keep every element $pull should have removed).
    coll.insert_many([{"_id": i, "arr": [{"s": "ab"}, {"s": VICTIM}], "l": ["ab", VICTIM]} for i in range(3)])
    for run in (
        lambda: list(coll.find({}, {"arr": {"$elemMatch": {"s": {"$regex": EVIL}}}})),
        lambda: coll.find_one_and_update({"_id": 0}, {"$set": {"t": 1}}, projection={"arr": {"$elemMatch": {"s": Regex(EVIL)}}}),
        lambda: coll.update_many({}, {"$pull": {"l": {"$regex": EVIL}}}),
        lambda: coll.update_one({"_id": 1}, {"$pull": {"l": Regex(EVIL)}}),
        lambda: coll.update_one({"_id": 1}, {"$pull": {"arr": {"s": {"$regex": EVIL}}}}),
    ):
        with pytest.raises(OperationFailure) as failure:
            run()
        assert failure.value.code == 51156, failure.value.details
        assert "match limit exceeded" in failure.value.details["errmsg"]
    # No element was pulled; ordinary regexes still project and pull.
    assert all(len(d["l"]) == 2 and len(d["arr"]) == 2 for d in coll.find())
    projected = coll.find_one({"_id": 2}, {"arr": {"$elemMatch": {"s": {"$regex": "^a{40}b$"}}}})
    assert projected["arr"] == [{"s": VICTIM}]
    coll.update_many({}, {"$pull": {"l": {"$regex": "^a{40}b$"}, "arr": {"s": {"$regex": "^ab$"}}}})
    assert all(d["l"] == ["ab"] and d["arr"] == [{"s": VICTIM}] for d in coll.find())


def test_a_pattern_over_the_length_limit_is_invalid(coll):
    coll.insert_one({"s": "c" * 40000})
    assert coll.count_documents({"s": {"$regex": "c" * 32764}}) == 1
    with pytest.raises(OperationFailure) as failure:
        coll.count_documents({"s": {"$regex": "c" * 32765}})
    assert failure.value.code == 51091


@pytest.mark.parametrize("size", [1_000, 100_000])
def test_huge_in_lists_are_answered(coll, size):
    coll.insert_many([{"_id": i, "v": i, "a": i % 7, "b": i % 11, "c": i % 13} for i in range(20_000)])
    coll.create_index([("a", 1), ("b", 1), ("c", 1)])
    wanted = list(range(0, 2 * size, 2))  # every other value, most of them absent
    expected = len([i for i in range(0, 20_000, 2) if i < 2 * size])
    started = time.perf_counter()
    assert coll.count_documents({"v": {"$in": wanted}}) == expected
    by_field = time.perf_counter() - started
    started = time.perf_counter()
    assert coll.count_documents({"_id": {"$in": wanted}}) == expected
    by_id = time.perf_counter() - started
    print(f"\n$in of {size} values over 20,000 documents: {by_field * 1000:.0f} ms on a plain field, "
          f"{by_id * 1000:.0f} ms on _id")
    # Three lists of 200 on a compound index: the planner caps the ranges, results stay exact.
    small = list(range(200))
    assert coll.count_documents({"a": {"$in": small}, "b": {"$in": small}, "c": {"$in": small}}) == 20_000


def test_an_in_list_near_the_16_mb_command_limit(daemon):
    """1,000,000 values (a 12 MB command): linear work, about 10 s in a debug build."""
    with daemon.client(socketTimeoutMS=300_000) as c:
        coll = c[unique_name("limits")]["c"]
        coll.insert_many([{"_id": i} for i in range(1000)])
        wanted = list(range(0, 2_000_000, 2))
        assert coll.count_documents({"_id": {"$in": wanted}}) == 500
        c.drop_database(coll.database.name)
