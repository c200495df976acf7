"""Query operators in find filters against the real daemon (pymongo)."""

from __future__ import annotations

import datetime
import re

import pytest
from bson import Decimal128, Int64, ObjectId, Regex
from pymongo.errors import OperationFailure

from storage_helpers import unique_name

DOCS = [
    {"_id": 1, "n": 1, "s": "apple", "a": [1, 2, 3], "d": {"x": 1, "y": [10, 20]}, "t": True},
    {"_id": 2, "n": 2.5, "s": "Banana", "a": [4, 5], "d": {"x": 2}, "t": False},
    {"_id": 3, "n": Int64(3), "s": "cherry\npie", "a": [], "d": {"x": 3, "y": 30}},
    {"_id": 4, "n": Decimal128("4"), "s": "date", "a": [[1, 2], 3], "arr": [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}]},
    {"_id": 5, "n": None, "s": 5, "a": "notarray"},
    {"_id": 6, "s": ObjectId("5f0000000000000000000000"), "a": [1, "1", 1.0]},
    {"_id": 7, "n": -8, "s": datetime.datetime(2021, 5, 1), "arr": [{"k": 2, "v": "a"}]},
]


@pytest.fixture(scope="module")
def coll(daemon):
    name = unique_name("q")
    with daemon.client() as c:
        c[name].c.insert_many([dict(d) for d in DOCS])
        yield c[name].c
        c.drop_database(name)


def ids(coll, filt, **kwargs):
    return sorted(d["_id"] for d in coll.find(filt, **kwargs))


@pytest.mark.parametrize("filt,expected", [
    ({"n": 1}, [1]),
    ({"n": 3}, [3]),              # int32 operand matches int64 value
    ({"n": 4}, [4]),              # matches decimal128
    ({"n": 2.5}, [2]),
    ({"n": None}, [5, 6]),        # null matches missing
    ({"a": 1}, [1, 6]),           # array element
    ({"a": [1, 2]}, [4]),         # whole-array element equality inside nested array
    ({"a": [1, 2, 3]}, [1]),      # whole array
    ({"a": []}, [3]),
    ({"d.x": 2}, [2]),            # dotted
    ({"d.y": 20}, [1]),           # dotted into array
    ({"d": {"x": 2}}, [2]),       # exact subdocument
    ({"d": {"x": 1}}, []),        # subdocument must be equal entirely
    ({"arr.k": 2}, [4, 7]),       # path through array of documents
    ({"arr.1.v": "b"}, [4]),      # numeric path component
    ({"a.0": 4}, [2]),
    ({"s": ObjectId("5f0000000000000000000000")}, [6]),
    ({"s": datetime.datetime(2021, 5, 1)}, [7]),
    ({"t": True}, [1]),
    ({"s": "apple", "n": 1}, [1]),
])
def test_equality(coll, filt, expected):
    assert ids(coll, filt) == expected


@pytest.mark.parametrize("filt,expected", [
    ({"n": {"$eq": 1}}, [1]),
    ({"d": {"$eq": {"x": 2}}}, [2]),
    ({"d": {"$eq": {"$gt": 1}}}, []),          # literal operand: a document, not an operator
    ({"n": {"$ne": 1}}, [2, 3, 4, 5, 6, 7]),
    ({"n": {"$gt": 2}}, [2, 3, 4]),
    ({"n": {"$gte": 2.5}}, [2, 3, 4]),
    ({"n": {"$lt": 2}}, [1, 7]),
    ({"n": {"$lte": 1}}, [1, 7]),
    ({"s": {"$gt": "b"}}, [3, 4]),              # type bracketing: strings only
    ({"n": {"$gt": None}}, []),
    ({"n": {"$gte": None}}, [5, 6]),
    ({"a": {"$gt": 4}}, [2]),
    ({"n": {"$in": [1, 3, "x"]}}, [1, 3]),
    ({"n": {"$in": [None]}}, [5, 6]),
    ({"s": {"$in": [re.compile("^ch"), "date"]}}, [3, 4]),
    ({"n": {"$nin": [1, 2.5, None]}}, [3, 4, 7]),
    ({"n": {"$exists": True}}, [1, 2, 3, 4, 5, 7]),
    ({"n": {"$exists": False}}, [6]),
    ({"d.y": {"$exists": True}}, [1, 3]),
    ({"n": {"$type": "int"}}, [1, 7]),
    ({"n": {"$type": "long"}}, [3]),
    ({"n": {"$type": "number"}}, [1, 2, 3, 4, 7]),
    ({"n": {"$type": ["null", "double"]}}, [2, 5]),
    ({"n": {"$type": 19}}, [4]),
    ({"a": {"$type": "array"}}, [1, 2, 3, 4, 6]),
    ({"s": {"$type": "objectId"}}, [6]),
    ({"s": {"$type": "date"}}, [7]),
])
def test_comparison_and_element_operators(coll, filt, expected):
    assert ids(coll, filt) == expected


@pytest.mark.parametrize("filt,expected", [
    ({"s": {"$regex": "^a"}}, [1]),
    ({"s": {"$regex": "^b", "$options": "i"}}, [2]),
    ({"s": {"$regex": "^pie", "$options": "m"}}, [3]),
    ({"s": {"$regex": "^pie"}}, []),
    ({"s": {"$regex": "cherry.pie", "$options": "s"}}, [3]),
    ({"s": {"$regex": "cherry.pie"}}, []),
    ({"s": {"$regex": "a p p l e # comment", "$options": "x"}}, [1]),
    ({"s": Regex("^A", "i")}, [1]),
    ({"s": re.compile("an+a$")}, [2]),
    ({"s": {"$regex": re.compile("^D", re.I)}}, [4]),
])
def test_regex(coll, filt, expected):
    assert ids(coll, filt) == expected


@pytest.mark.parametrize("filt,expected", [
    ({"$and": [{"n": {"$gt": 1}}, {"n": {"$lt": 4}}]}, [2, 3]),
    ({"$or": [{"n": 1}, {"s": "date"}]}, [1, 4]),
    ({"$nor": [{"n": 1}, {"n": None}]}, [2, 3, 4, 7]),
    ({"n": {"$not": {"$gt": 1}}}, [1, 5, 6, 7]),
    ({"s": {"$not": re.compile("^a")}}, [2, 3, 4, 5, 6, 7]),
    ({"arr": {"$elemMatch": {"k": 2, "v": "a"}}}, [7]),
    ({"arr": {"$elemMatch": {"k": {"$gte": 1}, "v": "b"}}}, [4]),
    ({"a": {"$elemMatch": {"$gt": 1, "$lt": 3}}}, [1]),
    ({"a": {"$size": 2}}, [2, 4]),
    ({"a": {"$size": 0}}, [3]),
    ({"a": {"$all": [1, 2]}}, [1]),
    ({"a": {"$all": [1]}}, [1, 6]),
    ({"arr": {"$all": [{"$elemMatch": {"k": 2}}]}}, [4, 7]),
    ({"n": {"$mod": [2, 0]}}, [2, 4, 7]),     # 2.5 truncates to 2
    ({"n": {"$mod": [3, 1]}}, [1, 4]),        # -8 % 3 is -2 (truncated)
    ({"$or": [{"a": {"$size": 3}}, {"d.x": {"$in": [2, 3]}}], "n": {"$ne": None}}, [1, 2, 3]),
])
def test_logical_and_array_operators(coll, filt, expected):
    assert ids(coll, filt) == expected


def test_unknown_operator_is_error_2_naming_it(coll):
    with pytest.raises(OperationFailure) as excinfo:
        list(coll.find({"n": {"$frob": 1}}))
    assert excinfo.value.code == 2
    assert "$frob" in str(excinfo.value)


def test_unknown_top_level_operator_is_error(coll):
    with pytest.raises(OperationFailure) as excinfo:
        list(coll.find({"$xor": [{"n": 1}]}))
    assert excinfo.value.code == 2
    assert "$xor" in str(excinfo.value)


@pytest.mark.parametrize("filt", [
    {"n": {"$in": 1}},
    {"n": {"$size": "x"}},
    {"n": {"$mod": [0, 1]}},
    {"$and": []},
    {"s": {"$regex": "("}},
    {"s": {"$regex": "a", "$options": "q"}},
    {"n": {"$exists": True, "$bogus": 1}},
])
def test_malformed_operators_are_errors(coll, filt):
    with pytest.raises(OperationFailure):
        list(coll.find(filt))


def test_operators_with_index_give_same_results(daemon):
    name = unique_name("qi")
    with daemon.client() as c:
        coll = c[name].c
        coll.insert_many([dict(d) for d in DOCS])
        filters = [{"n": {"$gt": 1}}, {"n": 3}, {"n": {"$in": [1, 4]}}, {"n": None}, {"a": 1},
                   {"s": {"$regex": "^d"}}, {"n": {"$lte": 2.5}}, {"a": {"$gt": 4}}, {"d.x": {"$gte": 2}}]
        before = [ids(coll, f) for f in filters]
        coll.create_index("n")
        coll.create_index("a")
        coll.create_index("s")
        coll.create_index("d.x")
        after = [ids(coll, f) for f in filters]
        c.drop_database(name)
    assert before == after
