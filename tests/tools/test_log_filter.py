"""tools/log_filter.py against the examples of the CloudWatch Logs page "Filter pattern syntax for metric
filters, subscription filters, filter log events, and Live Tail"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html), sections "Matching
terms in JSON log events", "JSON compound conditions", "JSON special considerations" and "Numeric
comparisons", and the matching of terms in unstructured log events: each documented pattern gives the
documented result, and what the page does not define is refused or decided explicitly."""

from __future__ import annotations

import re

import pytest

from tools.log_filter import (
    FilterPatternError,
    Occurrence,
    Term,
    TermPattern,
    compile_pattern,
    matches,
    term_pattern,
)

#: The page's first example event.
EXAMPLE = {
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": None,
    "ThisFlag": True,
}

#: The page's compound-conditions example event.
COMPOUND = {
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
}


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "UpdateTrail" }',
        "{ $.sourceIPAddress != 123.123.* }",
        '{ $.arrayKey[0] = "value" }',
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
    ],
)
def test_the_documented_json_examples_match(pattern):
    assert matches(pattern, EXAMPLE)


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
        ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
        (
            '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
            True,
        ),
        (
            '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch)'
            " && $.actions[2] = nomatch }",
            False,
        ),
    ],
)
def test_the_documented_compound_examples_and_operator_precedence(pattern, expected):
    """The page: "The syntax follows standard order of operations () > && > ||"."""
    assert matches(pattern, COMPOUND) is expected


def test_or_matching_in_json_filters():
    """The page's OR example: {$.foo = bar} matches the first event, {$.foo = baz} the second, both with ||."""
    first, second = {"foo": "bar"}, {"foo": "baz"}
    assert matches("{$.foo = bar}", first) and not matches("{$.foo = bar}", second)
    assert matches("{$.foo = baz }", second) and not matches("{$.foo = baz }", first)
    assert matches("{$.foo = bar || $.foo = baz }", first) and matches("{$.foo = bar || $.foo = baz }", second)


@pytest.mark.parametrize("pattern", ["{$.users = 1}", "{$.users != 1}"])
def test_a_selector_pointing_at_an_array_never_matches(pattern):
    """The page: "both {$.users = 1} and {$.users != 1} will fail to match a log event where users is an array"."""
    assert not matches(pattern, {"users": [1, 2, 3]})


@pytest.mark.parametrize(
    "pattern, value, expected",
    [
        ("{ $.latency >= 500 }", 500, True),
        ("{ $.latency >= 500 }", 499.9, False),
        ("{ $.latency < 10e3 }", 9999, True),
        ("{ $.latency < 10e-3 }", 0.01, False),
        ("{ $.latency <= 55.5 }", 55.5, True),
        ("{ $.latency = 400 }", 400, True),
        ("{ $.latency != 500 }", 400, True),
        ("{ $.latency > +1000 }", 1000, False),
        ("{ $.latency > +1000 }", 1001, True),
    ],
)
def test_numeric_comparisons(pattern, value, expected):
    assert matches(pattern, {"latency": value}) is expected


@pytest.mark.parametrize(
    "value, expected",
    [("PutEvent", True), ("GetEvent", True), ("EventName", False), ("Event", True), ("Events", False)],
)
def test_a_leading_wildcard_matches_any_text_before(value, expected):
    """The page: "*Event will match PutEvent and GetEvent"."""
    assert matches("{ $.name = *Event }", {"name": value}) is expected


@pytest.mark.parametrize("value, expected", [("EventId", True), ("EventName", True), ("PutEvent", False)])
def test_a_trailing_wildcard_matches_any_text_after(value, expected):
    """The page: "Event* will match EventId and EventName"."""
    assert matches("{ $.name = Event* }", {"name": value}) is expected


@pytest.mark.parametrize("value, expected", [("Ev*ent", True), ("Event", False), ("Evxent", False)])
def test_a_wildcard_inside_a_string_is_literal(value, expected):
    """The page: "Ev*ent will only match the actual string Ev*ent"."""
    assert matches("{ $.name = Ev*ent }", {"name": value}) is expected


def test_a_lone_wildcard_matches_any_value_node():
    """The page's numeric-extraction example counts every event with a latency: { $.latency = * }."""
    assert matches("{ $.latency = * }", {"latency": 12}) and matches("{ $.latency = * }", {"latency": "slow"})
    assert not matches("{ $.latency = * }", {"other": 1})


def test_matching_is_case_sensitive():
    assert not matches("{ $.eventName = consolelogin }", {"eventName": "ConsoleLogin"})


def test_undefined_comparisons_are_false_both_ways():
    """The page does not say what = and != do on a missing property, a null or a boolean, or between a
    string and a number: here neither matches, and only NOT EXISTS / IS see those values."""
    for event in ({}, {"x": None}, {"x": True}, {"x": {"y": 1}}):
        assert not matches('{ $.x = "a" }', event) and not matches('{ $.x != "a" }', event), event
    assert not matches('{ $.x = "400" }', {"x": 400}) and not matches("{ $.x = 400 }", {"x": "400"})
    assert matches('{ $.x != "400" }', {"x": 400})  # a number is a value node, and no string equals it


def test_not_exists_is_true_only_for_a_missing_property():
    assert matches("{ $.a.b NOT EXISTS }", {"a": {}}) and matches("{ $.a.b NOT EXISTS }", {"a": "text"})
    assert not matches("{ $.a.b NOT EXISTS }", {"a": {"b": None}})


def test_a_message_that_is_not_json_never_matches_a_json_pattern():
    assert not matches('{ $.eventName = "ConsoleLogin" }', "ConsoleLogin at 12:00")
    assert matches('{ $.eventName = "ConsoleLogin" }', '{"eventName": "ConsoleLogin"}')


@pytest.mark.parametrize(
    "pattern, why",
    [
        ("ERROR", "only JSON filter patterns"),
        ("[ip, user, status_code = 4*]", "only JSON filter patterns"),
        ("%ERROR%", "only JSON filter patterns"),
        ("{ $.x EXISTS }", "'EXISTS' is not supported"),
        ("{ $.x IS NOT NULL }", "'IS NOT' is not supported"),
        ("{ $.x = a@b }", "'@' is not part of a JSON filter pattern"),
        ("{ $.x > abc }", "compares numbers only"),
        ("{ $.x = 1 && }", "the pattern ends where a condition was expected"),
        ("{ ($.x = 1 }", "the pattern ends where ')' was expected"),
        ("{ $.x = 1 ) }", "unexpected ')'"),
        ("{ $x = 1 }", "not a property selector"),
        ("{ eventName = x }", "expected a selector"),
        ('{ $.x = "open }', "unterminated quoted string"),
        ("{ }", "an empty JSON pattern"),
        ("{ $.x = 1 $.y = 2 }", "unexpected '$.y'"),
    ],
)
def test_a_pattern_it_does_not_understand_is_refused_not_matched(pattern, why):
    with pytest.raises(FilterPatternError, match=re.escape(why)):
        compile_pattern(pattern)


# -- unstructured terms -------------------------------------------------------------------------------

#: The page's sample events for terms.
BAD_REQUEST = "[ERROR 400] BAD REQUEST"
UNAUTHORIZED = "[ERROR 401] UNAUTHORIZED REQUEST"
MISSING = "[ERROR 419] MISSING ARGUMENTS"
INVALID = "[ERROR 420] INVALID ARGUMENTS"
SERVER_ERROR = "[ERROR 500] INTERNAL SERVER ERROR"
EVENTS = (BAD_REQUEST, UNAUTHORIZED, MISSING, INVALID, SERVER_ERROR)


@pytest.mark.parametrize(
    "pattern, returned",
    [
        # "Match a single term": every event containing the word ERROR.
        ("ERROR", EVENTS),
        # "Match multiple terms": both ERROR and ARGUMENTS.
        ("ERROR ARGUMENTS", (MISSING, INVALID)),
        # "Match single and multiple terms": ERROR or ARGUMENTS.
        ("?ERROR ?ARGUMENTS", EVENTS),
        ("?REQUEST ?ARGUMENTS", (BAD_REQUEST, UNAUTHORIZED, MISSING, INVALID)),
        # "Match exact phrases".
        ('"INTERNAL SERVER ERROR"', (SERVER_ERROR,)),
        # "Include and exclude terms": ERROR, and not ARGUMENTS.
        ("ERROR -ARGUMENTS", (BAD_REQUEST, UNAUTHORIZED, SERVER_ERROR)),
        # "Match everything".
        ('" "', EVENTS),
    ],
)
def test_documented_term_examples_return_exactly_the_documented_events(pattern, returned):
    assert [event for event in EVENTS if matches(pattern, event)] == list(returned)


def test_terms_are_case_sensitive():
    """The page: 'Filter patterns are case sensitive.'"""
    assert matches("ERROR", BAD_REQUEST) and not matches("error", BAD_REQUEST) and not matches("Error", BAD_REQUEST)


def test_the_words_of_a_phrase_must_be_adjacent_and_in_order():
    assert not matches('"SERVER INTERNAL"', SERVER_ERROR)
    assert not matches('"INTERNAL ERROR"', SERVER_ERROR)
    assert matches("INTERNAL ERROR", SERVER_ERROR)  # unquoted: two terms, anywhere


def test_a_term_is_a_whole_word():
    # The page shows a regex pattern (%AUTHORIZED%) to find AUTHORIZED inside UNAUTHORIZED.
    assert not matches("AUTHORIZED", UNAUTHORIZED)
    assert matches("UNAUTHORIZED", UNAUTHORIZED)
    assert not matches("ERR", BAD_REQUEST)
    assert matches("400", BAD_REQUEST)  # a numeric value is a term too
    assert matches('"[ERROR 400]"', BAD_REQUEST)  # non-alphanumeric characters, quoted


def test_the_empty_term_pattern_matches_every_event():
    assert all(matches("", event) for event in EVENTS)
    assert matches("", "")


def test_exclusion_alone_matches_every_event_without_the_term():
    assert [e for e in EVENTS if matches("-ARGUMENTS", e)] == [BAD_REQUEST, UNAUTHORIZED, SERVER_ERROR]


def test_terms_read_a_parsed_event_as_its_text():
    assert matches("ERROR", {"level": "ERROR", "message": "declined"})
    assert not matches("ERROR", {"level": "INFO", "message": "ERRORS_TOTAL registered"})


def test_term_pattern_reads_prefixes_and_phrases():
    assert term_pattern('ERROR ?"BAD REQUEST" -ARGUMENTS') == TermPattern(
        (
            Term("ERROR"),
            Term("BAD REQUEST", Occurrence.OPTIONAL),
            Term("ARGUMENTS", Occurrence.EXCLUDED),
        )
    )


@pytest.mark.parametrize(
    "pattern, why",
    [
        ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", "space-delimited"),
        ("%AUTHORIZED%", "regular-expression"),
        ("ERROR %AUTH.*%", "regular-expression"),
        ('"INTERNAL SERVER', "unterminated quote"),
        ('ERROR"x"', "separated by spaces"),
    ],
)
def test_a_term_pattern_it_does_not_understand_is_refused_not_matched(pattern, why):
    with pytest.raises(FilterPatternError, match=why):
        matches(pattern, BAD_REQUEST)
