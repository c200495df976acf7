#!/usr/bin/env python3
"""Runs MongoDB's GridFS unified-format tests against a server through pymongo.

    run_gridfs.py --host 127.0.0.1 --port 27017 [--load-balanced] [-v] [-k SUBSTRING] [FILE ...]

Without FILE arguments it runs every JSON file of the GridFS conformance data (default
../shared/conformance/gridfs relative to the repository, or $GRIDLITE_CONFORMANCE_DIR/gridfs): the eight
top-level files, pymongo-extra/ and related/ (client-side operation timeouts and retryable reads, which
set the server's `failCommand` fail point: the server must run with
`--setParameter enableTestCommands=1`). Prints one line per failure (every line with -v), then exactly
`N passed, N failed` (plus `, N skipped` when any test was skipped). Exits 1 when a test failed.

For each test: check `runOnRequirements` (file and test) against the server (version from buildInfo,
topology `single`, or `load-balanced` with --load-balanced, which also connects every client with
`loadBalanced=true`); drop and refill the `initialData` collections (writeConcern majority; an empty
list creates the collection), create fresh entities, run the operations, check `expectResult` /
`expectError` / `saveResultAsEntity`, turn off the fail points the test set, then `expectEvents` (command
monitoring), then `outcome` (each collection read back sorted by _id). Stored documents (find results,
outcome) must list exactly the expected fields, outcome documents also in the expected order; command
documents and CRUD result summaries may have more (the format's root-level rule). Arrays must have the
expected length. A network error satisfies `expectError` only in a test whose fail point closes
connections, or as the timeout of `isTimeoutError`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gridfs  # noqa: E402
from bson import json_util  # noqa: E402
from pymongo import MongoClient, WriteConcern  # noqa: E402
from pymongo.errors import ConnectionFailure, NotPrimaryError, OperationFailure, PyMongoError  # noqa: E402

from unified_match import MISSING, MatchError, Matcher  # noqa: E402
from unified_ops import Entities, UnsupportedError  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPPORTED_SCHEMA_MAJOR = 1
KNOWN_REQUIREMENTS = {"minServerVersion", "maxServerVersion", "topologies", "serverless", "auth"}


def conformance_dir() -> Path:
    base = os.environ.get("GRIDLITE_CONFORMANCE_DIR")
    root = Path(base) if base else REPO_ROOT.parent / "shared" / "conformance"
    return root / "gridfs"


def default_files() -> list[Path]:
    root = conformance_dir()
    return (sorted(root.glob("*.json")) + sorted((root / "pymongo-extra").glob("*.json"))
            + sorted((root / "related").glob("*.json")))


@dataclass
class Outcome:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)


class ExpectationError(AssertionError):
    """An operation's result, error or events differ from the test's expectation."""


@dataclass
class ServerFacts:
    """What runOnRequirements are checked against."""
    version: tuple[int, ...]
    topology: str


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(text).split(".") if part.isdigit())


def unmet_requirement(requirements: list[Mapping[str, Any]] | None, server: ServerFacts) -> str | None:
    """None when one of the requirement documents is met (the format's rule), else why not."""
    if not requirements:
        return None
    reasons = []
    for requirement in requirements:
        unknown = set(requirement) - KNOWN_REQUIREMENTS
        if unknown:
            raise UnsupportedError(f"runOnRequirements keys {sorted(unknown)}")
        if "minServerVersion" in requirement and server.version < _version(requirement["minServerVersion"]):
            reasons.append(f"server older than {requirement['minServerVersion']}")
        elif "maxServerVersion" in requirement and server.version > _version(requirement["maxServerVersion"]):
            reasons.append(f"server newer than {requirement['maxServerVersion']}")
        elif "topologies" in requirement and server.topology not in requirement["topologies"]:
            reasons.append(f"topology {server.topology} not in {requirement['topologies']}")
        elif requirement.get("serverless") == "require":
            reasons.append("needs a serverless deployment")
        elif requirement.get("auth") is True:
            reasons.append("needs authentication")
        else:
            return None
    return "; ".join(reasons)


def load_initial_data(internal: MongoClient, initial: list[Mapping[str, Any]]) -> None:
    majority = WriteConcern(w="majority")
    for entry in initial:
        db = internal[entry["databaseName"]]
        name = entry["collectionName"]
        db.drop_collection(name)
        documents = entry["documents"]
        if documents:
            db.get_collection(name, write_concern=majority).insert_many(documents)
        else:
            db.create_collection(name, write_concern=majority)


def check_error(op: Mapping[str, Any], error: BaseException, network_expected: bool) -> None:
    expected = op["expectError"]
    known = {"isError", "isClientError", "isTimeoutError", "errorContains", "errorCode", "errorCodeName",
             "errorLabelsContain", "errorLabelsOmit"}
    unknown = set(expected) - known
    if unknown:
        raise UnsupportedError(f"expectError keys {sorted(unknown)}")
    if not isinstance(error, PyMongoError):
        # Anything else (a KeyError in the runner, a TypeError...) is not the driver's error.
        raise ExpectationError(f"{op['name']}: expected a driver error, got {error!r}") from error
    timeout = bool(getattr(error, "timeout", False))
    if "isTimeoutError" in expected and expected["isTimeoutError"] != timeout:
        raise ExpectationError(f"{op['name']}: isTimeoutError {expected['isTimeoutError']}, got {error!r}")
    network = isinstance(error, ConnectionFailure) and not isinstance(error, NotPrimaryError)
    if network and not network_expected and not (
            expected.get("isTimeoutError") is True and timeout):
        # A dropped connection is a pass only where the test's fail point closes connections, and a
        # network timeout only as the timeout the test expects.
        raise ExpectationError(f"{op['name']}: network error {error!r}") from error
    for label in expected.get("errorLabelsContain", []):
        if not error.has_error_label(label):
            raise ExpectationError(f"{op['name']}: error {error!r} lacks label {label!r}")
    for label in expected.get("errorLabelsOmit", []):
        if error.has_error_label(label):
            raise ExpectationError(f"{op['name']}: error {error!r} has label {label!r}")
    if expected.get("isClientError") is True and not isinstance(error, gridfs.errors.GridFSError):
        # pymongo's GridFS client errors: NoFile (file or revision not found), CorruptGridFile
        # (chunk missing or of the wrong size), FileExists.
        raise ExpectationError(f"{op['name']}: expected a GridFS client error, got {error!r}")
    if expected.get("isClientError") is False and not isinstance(error, OperationFailure):
        raise ExpectationError(f"{op['name']}: expected a server error, got {error!r}")
    if "errorContains" in expected and expected["errorContains"].lower() not in str(error).lower():
        raise ExpectationError(f"{op['name']}: error {error!r} lacks {expected['errorContains']!r}")
    if "errorCode" in expected and getattr(error, "code", None) != expected["errorCode"]:
        raise ExpectationError(f"{op['name']}: error code {getattr(error, 'code', None)}, "
                               f"expected {expected['errorCode']}")
    if "errorCodeName" in expected:
        details = getattr(error, "details", None) or {}
        if details.get("codeName") != expected["errorCodeName"]:
            raise ExpectationError(f"{op['name']}: codeName {details.get('codeName')!r}, "
                                   f"expected {expected['errorCodeName']!r}")


def run_operation(entities: Entities, matcher: Matcher, op: Mapping[str, Any]) -> None:
    known = {"name", "object", "arguments", "expectResult", "expectError", "saveResultAsEntity"}
    if set(op) - known:
        raise UnsupportedError(f"operation keys {sorted(set(op) - known)}")
    try:
        result = entities.run(op)
    except UnsupportedError:
        raise
    except Exception as error:  # noqa: BLE001 - compared with expectError below
        if "expectError" not in op:
            raise ExpectationError(f"{op['name']} on {op['object']} raised {error!r}") from error
        check_error(op, error, entities.closes_connections)
        return
    if "expectError" in op:
        raise ExpectationError(f"{op['name']} on {op['object']}: expected an error, got {result!r}")
    if "expectResult" in op:
        # Documents as stored (find) must have exactly the expected fields. Their order is the
        # driver's (pymongo writes files documents in its own order), so it is checked in `outcome` only.
        stored = op["name"] == "find"
        try:
            matcher.match(op["expectResult"], MISSING if result is None else result,
                          f"{op['name']}.result", allow_extra_root=not stored)
        except MatchError as error:
            raise ExpectationError(str(error)) from None
    if "saveResultAsEntity" in op:
        entities.values[op["saveResultAsEntity"]] = result
        entities.kinds[op["saveResultAsEntity"]] = "result"


def check_events(entities: Entities, matcher: Matcher, expect_events: list[Mapping[str, Any]]) -> None:
    for block in expect_events:
        if block.get("eventType", "command") != "command":
            raise UnsupportedError(f"eventType {block['eventType']}")
        recorder = entities.recorders[block["client"]]
        actual = recorder.events
        expected = block["events"]
        if block.get("ignoreExtraEvents"):
            actual = actual[:len(expected)]
        names = [f"{kind}:{body['commandName']}" for kind, body in actual]
        if len(actual) != len(expected):
            raise ExpectationError(f"client {block['client']}: expected {len(expected)} events, got "
                                   f"{len(actual)}: {names}")
        for index, (want, (kind, body)) in enumerate(zip(expected, actual)):
            (want_kind, want_body), = want.items()
            if want_kind != kind:
                raise ExpectationError(f"event {index}: expected {want_kind}, got {kind} ({names})")
            for key, value in want_body.items():
                if key not in body:
                    raise UnsupportedError(f"event field {key}")
                try:
                    matcher.match(value, body[key], f"events[{index}].{key}",
                                  allow_extra_root=(key in ("command", "reply")), query_eq=(key == "command"))
                except MatchError as error:
                    raise ExpectationError(str(error)) from None


def check_outcome(internal: MongoClient, matcher: Matcher, outcome: list[Mapping[str, Any]]) -> None:
    for entry in outcome:
        coll = internal[entry["databaseName"]][entry["collectionName"]]
        actual = list(coll.find({}, sort=[("_id", 1)]))
        try:
            matcher.match(entry["documents"], actual, f"outcome[{entry['collectionName']}]",
                          check_order=True)
        except MatchError as error:
            raise ExpectationError(str(error)) from None


def run_test(uri: str, internal: MongoClient, spec: Mapping[str, Any], test: Mapping[str, Any],
             client_options: Mapping[str, Any]) -> None:
    known = {"description", "operations", "expectEvents", "outcome", "runOnRequirements", "skipReason"}
    if set(test) - known:
        raise UnsupportedError(f"test keys {sorted(set(test) - known)}")
    load_initial_data(internal, spec.get("initialData", []))
    entities = Entities(uri, client_options)
    try:
        entities.create(spec.get("createEntities", []))
        matcher = Matcher(entities.values)
        entities.start_recording()
        try:
            for op in test["operations"]:
                run_operation(entities, matcher, op)
        finally:
            entities.stop_recording()
            entities.disable_fail_points()
        check_events(entities, matcher, test.get("expectEvents", []))
        check_outcome(internal, matcher, test.get("outcome", []))
    finally:
        entities.close()


def run_file(uri: str, internal: MongoClient, path: Path, result: Outcome, verbose: bool,
             keyword: str | None, server: ServerFacts, client_options: Mapping[str, Any]) -> None:
    spec = json_util.loads(path.read_text())
    label = path.relative_to(conformance_dir()) if path.is_relative_to(conformance_dir()) else path
    major = int(str(spec["schemaVersion"]).split(".")[0])
    for test in spec["tests"]:
        name = f"{label}: {test['description']}"
        if keyword and keyword not in name:
            continue
        reason = None
        if major != SUPPORTED_SCHEMA_MAJOR:
            reason = f"schema version {spec['schemaVersion']}"
        elif "skipReason" in test:
            reason = test["skipReason"]
        else:
            try:
                reason = (unmet_requirement(spec.get("runOnRequirements"), server)
                          or unmet_requirement(test.get("runOnRequirements"), server))
            except UnsupportedError as error:
                result.failed += 1
                line = f"FAIL {name}: UnsupportedError: {error}"
                result.failures.append(line)
                print(line)
                continue
        if reason is not None:
            result.skipped += 1
            if verbose:
                print(f"SKIP {name} ({reason})")
            continue
        try:
            run_test(uri, internal, spec, test, client_options)
        except (ExpectationError, UnsupportedError, PyMongoError, gridfs.errors.GridFSError) as error:
            result.failed += 1
            line = f"FAIL {name}: {type(error).__name__}: {error}"
            result.failures.append(line)
            print(line)
        except Exception:  # noqa: BLE001 - a runner bug still counts as a failed test
            result.failed += 1
            line = f"FAIL {name}: runner error\n{traceback.format_exc()}"
            result.failures.append(line)
            print(line)
        else:
            result.passed += 1
            if verbose:
                print(f"PASS {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=27017)
    parser.add_argument("--load-balanced", action="store_true",
                        help="connect every client with loadBalanced=true (topology load-balanced)")
    parser.add_argument("--uri", help="a full connection string (e.g. with credentials); overrides --host/--port")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every test")
    parser.add_argument("-k", dest="keyword", help="run only tests whose 'file: description' contains this")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    uri = args.uri or f"mongodb://{args.host}:{args.port}/"
    files = args.files or default_files()
    if not files:
        print(f"no conformance files found under {conformance_dir()}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    result = Outcome()
    client_options = {"loadBalanced": True} if args.load_balanced else {}
    with MongoClient(uri, serverSelectionTimeoutMS=10000, **client_options) as internal:
        server = ServerFacts(version=tuple(internal.server_info()["versionArray"][:3]),
                             topology="load-balanced" if args.load_balanced else "single")
        for path in files:
            run_file(uri, internal, path.resolve(), result, args.verbose, args.keyword, server, client_options)
    summary = f"{result.passed} passed, {result.failed} failed"
    if result.skipped:
        summary += f", {result.skipped} skipped"
    print(summary)
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
