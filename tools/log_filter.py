"""CloudWatch Logs filter patterns evaluated locally: which log events a metric filter would count.

    from tools import log_filter

    log_filter.matches('{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }', event_json)
    log_filter.matches("?ERROR ?FATAL", "2025-05-01T12:00:00Z ERROR 42 --- [main] c.d.b.Checkout : declined")

The emulator (moto) stores metric filters but never evaluates a JSON pattern, and AWS's own
``TestMetricFilter`` needs an account. This evaluator implements two syntaxes of the CloudWatch
Logs page "Filter pattern syntax for metric filters, subscription filters, filter log
events, and Live Tail" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html,
sections "Matching terms in JSON log events", "JSON compound conditions", "Numeric comparisons",
and the terms of unstructured log events, below). JSON patterns (:func:`compile_pattern`):

- the pattern is enclosed in ``{ }``;
- a selector starts at the root ``$``, names properties (letters, digits, ``-``, ``_``) joined by
  ``.``, and array elements with ``[NUMBER]`` after a property (``$.users[0].id``,
  ``$.coordinates[0][1]``);
- ``=`` / ``!=`` compare with a string, quoted or not (unquoted: letters, digits and ``_ . - + *``;
  anything else must be quoted); ``*`` matches any text at the start and/or the end of the string
  (``*Event``, ``Event*``), while ``Ev*ent`` only matches the actual string ``Ev*ent``; a lone ``*``
  matches any value;
- ``=``, ``!=``, ``<``, ``>``, ``<=``, ``>=`` compare with a number (``400``, ``+1000``, ``55.5``,
  ``10e-3``);
- ``IS NULL``, ``IS TRUE``, ``IS FALSE`` and ``NOT EXISTS``;
- ``&&`` and ``||`` with parentheses; ``&&`` binds tighter than ``||``.

A comparison only applies to a value node, a string or a number: "If it points to an array or
object, the filter will not be applied", so there both ``=`` and ``!=`` are false. Where the page
is silent this evaluator decides, and the tests pin each decision: a comparison with a missing
property, a null or a boolean is false for ``=`` and ``!=`` alike (only ``NOT EXISTS`` and ``IS``
see those); a string never equals a number (``"400"`` is not ``400``); matching is case-sensitive.

Unstructured terms (:func:`term_pattern`), matched against the event's text::

    ERROR                   events containing the word ERROR
    ERROR ARGUMENTS         ... both words
    ?ERROR ?ARGUMENTS       ... either word
    "INTERNAL SERVER ERROR" ... the exact phrase
    ERROR -ARGUMENTS        ... ERROR and not ARGUMENTS
    " "                     every event (as does the empty pattern)

Here too the page leaves some things open, decided and tested as follows: a term matches a whole
word, not inside a longer run of letters and digits (``ERROR`` matches ``[ERROR 400]``, not
``ERRORS``: the page has bare terms be words, asks to quote "terms that include non-alphanumeric
characters", and shows a regex, not a term, finding ``AUTHORIZED`` inside ``UNAUTHORIZED``); a
quoted phrase follows the same rule at its two ends. Plain terms are all required, ``-`` terms all
excluded, and where ``?`` terms are given at least one of them must match (the page shows each
kind alone, and ``?`` terms only with each other).

Anything else (space-delimited ``[...]`` patterns, ``%regex%``, ``EXISTS``, ``IS NOT``, a
malformed selector or quote) raises :class:`FilterPatternError`: a pattern this evaluator does
not understand is refused, never guessed at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any


class FilterPatternError(ValueError):
    """A pattern this evaluator does not understand (the message says where)."""


#: A property selector: ``$`` then ``.name`` segments, each optionally followed by ``[n]`` indexes.
_SELECTOR = re.compile(r"\$((?:\.[A-Za-z0-9_-]+(?:\[\d+\])*)+)")
_SEGMENT = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]")
#: The page's NUMBER: an integer or decimal with an optional sign, optionally in scientific notation.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_UNQUOTED = re.compile(r"[A-Za-z0-9_.+*-]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_OPERATORS = ("&&", "||", "!=", "<=", ">=", "=", "<", ">", "(", ")")
_KEYWORDS = {"IS", "NULL", "TRUE", "FALSE", "NOT", "EXISTS"}
_MISSING = object()


@dataclass(frozen=True)
class _Token:
    kind: str  #: selector, string, number, op, word
    text: str
    position: int


def _tokens(body: str, offset: int) -> list[_Token]:
    found: list[_Token] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char.isspace():
            index += 1
            continue
        where = offset + index
        if char == "$":
            match = _SELECTOR.match(body, index)
            if match is None:
                raise FilterPatternError(f"position {where}: not a property selector (e.g. $.eventName)")
            found.append(_Token("selector", match.group(0), where))
            index = match.end()
            continue
        if char == '"':
            match = _QUOTED.match(body, index)
            if match is None:
                raise FilterPatternError(f"position {where}: unterminated quoted string")
            found.append(_Token("string", json.loads(f'"{match.group(1)}"'), where))
            index = match.end()
            continue
        operator = next((op for op in _OPERATORS if body.startswith(op, index)), None)
        if operator is not None:
            found.append(_Token("op", operator, where))
            index += len(operator)
            continue
        match = _UNQUOTED.match(body, index)
        if match is None:
            raise FilterPatternError(f"position {where}: {char!r} is not part of a JSON filter pattern")
        text = match.group(0)
        if text in _KEYWORDS:
            found.append(_Token("word", text, where))
        elif _NUMBER.fullmatch(text):
            found.append(_Token("number", text, where))
        else:
            found.append(_Token("string", text, where))
        index = match.end()
    return found


Event = Any
Predicate = Callable[[Event], bool]


def _select(event: Event, selector: str) -> Any:
    """The value a selector points at in a parsed event, or ``_MISSING``."""
    value = event
    for name, index in _SEGMENT.findall(selector[1:]):
        if name:
            if not isinstance(value, dict) or name not in value:
                return _MISSING
            value = value[name]
        else:
            position = int(index)
            if not isinstance(value, list) or position >= len(value):
                return _MISSING
            value = value[position]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _string_test(pattern: str) -> Callable[[Any], bool | None]:
    """Whether a value equals a string pattern: True/False for a value node, None when the
    comparison does not apply (missing, null, boolean, array, object)."""

    def equal_text(value: str) -> bool:
        if pattern == "*":
            return True
        starts, ends = pattern.startswith("*"), pattern.endswith("*")
        core = pattern[1 if starts else 0 : len(pattern) - 1 if ends else len(pattern)]
        if starts and ends:
            return core in value
        if starts:
            return value.endswith(core)
        if ends:
            return value.startswith(core)
        return value == pattern

    def test(value: Any) -> bool | None:
        if isinstance(value, str):
            return equal_text(value)
        if _is_number(value):
            return pattern == "*"  # a lone wildcard matches any value; text never equals a number
        return None

    return test


_NUMERIC = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


class _Parser:
    """Recursive descent: ``or := and ('||' and)*``, ``and := term ('&&' term)*``,
    ``term := '(' or ')' | comparison``."""

    def __init__(self, tokens: list[_Token], end: int) -> None:
        self.tokens = tokens
        self.index = 0
        self.end = end

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, what: str) -> _Token:
        token = self.peek()
        if token is None:
            raise FilterPatternError(f"position {self.end}: the pattern ends where {what} was expected")
        self.index += 1
        return token

    def parse(self) -> Predicate:
        if not self.tokens:
            raise FilterPatternError("an empty JSON pattern {} has no condition")
        predicate = self.disjunction()
        leftover = self.peek()
        if leftover is not None:
            raise FilterPatternError(f"position {leftover.position}: unexpected {leftover.text!r}")
        return predicate

    def disjunction(self) -> Predicate:
        terms = [self.conjunction()]
        while (token := self.peek()) is not None and token.text == "||":
            self.index += 1
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda event: any(term(event) for term in terms))

    def conjunction(self) -> Predicate:
        terms = [self.term()]
        while (token := self.peek()) is not None and token.text == "&&":
            self.index += 1
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else (lambda event: all(term(event) for term in terms))

    def term(self) -> Predicate:
        token = self.take("a condition")
        if token.kind == "op" and token.text == "(":
            inner = self.disjunction()
            closing = self.take("')'")
            if closing.text != ")":
                raise FilterPatternError(f"position {closing.position}: expected ')', found {closing.text!r}")
            return inner
        if token.kind != "selector":
            raise FilterPatternError(f"position {token.position}: expected a selector such as $.eventName")
        return self.comparison(token.text)

    def comparison(self, selector: str) -> Predicate:
        operator = self.take("an operator after " + selector)
        if operator.kind == "word":
            return self.keyword_test(selector, operator)
        if operator.kind != "op" or operator.text not in _NUMERIC:
            raise FilterPatternError(f"position {operator.position}: expected an operator, found {operator.text!r}")
        value = self.take(f"a value after {selector} {operator.text}")
        if value.kind == "number":
            number, compare = float(value.text), _NUMERIC[operator.text]
            return lambda event: _is_number(found := _select(event, selector)) and compare(found, number)
        if value.kind != "string":
            raise FilterPatternError(f"position {value.position}: expected a value, found {value.text!r}")
        if operator.text not in ("=", "!="):
            raise FilterPatternError(
                f"position {operator.position}: {operator.text} compares numbers only, not {value.text!r}"
            )
        test, wanted = _string_test(value.text), operator.text == "="
        return lambda event: (result := test(_select(event, selector))) is not None and result is wanted

    def keyword_test(self, selector: str, first: _Token) -> Predicate:
        second = self.take(f"a keyword after {first.text}") if first.text in ("IS", "NOT") else None
        phrase = first.text if second is None else f"{first.text} {second.text}"
        if phrase == "NOT EXISTS":
            return lambda event: _select(event, selector) is _MISSING
        constants = {"IS NULL": None, "IS TRUE": True, "IS FALSE": False}
        if phrase not in constants:
            raise FilterPatternError(
                f"position {first.position}: {phrase!r} is not supported; allowed: IS NULL, IS TRUE, IS FALSE,"
                " NOT EXISTS"
            )
        constant = constants[phrase]
        return lambda event: (found := _select(event, selector)) is not _MISSING and found is constant


def compile_pattern(pattern: str) -> Predicate:
    """A JSON filter pattern as a predicate over parsed events (dicts); FilterPatternError if not understood."""
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise FilterPatternError(
            f"{pattern!r}: only JSON filter patterns {{ ... }} are supported (not text terms, space-delimited or"
            " regex patterns)"
        )
    body_start = pattern.index("{") + 1
    return _Parser(_tokens(text[1:-1], body_start), body_start + len(text) - 2).parse()


# -- unstructured terms -------------------------------------------------------------------------------


class Occurrence(Enum):
    """How one term of an unstructured pattern counts."""

    REQUIRED = ""  # ERROR
    OPTIONAL = "?"  # ?ERROR: at least one optional term must match
    EXCLUDED = "-"  # -ERROR


@dataclass(frozen=True)
class Term:
    """One word or quoted phrase of an unstructured pattern, and how it counts."""

    text: str
    occurrence: Occurrence = Occurrence.REQUIRED

    def found_in(self, message: str) -> bool:
        """Whether the term occurs in ``message`` as a whole word (or phrase); a blank phrase is everywhere."""
        if not self.text.strip():
            return True
        before = r"(?<![A-Za-z0-9])" if self.text[0].isalnum() else ""
        after = r"(?![A-Za-z0-9])" if self.text[-1].isalnum() else ""
        return re.search(before + re.escape(self.text) + after, message) is not None


@dataclass(frozen=True)
class TermPattern:
    """An unstructured pattern: words and phrases required, optional (``?``) or excluded (``-``)."""

    terms: tuple[Term, ...]

    def matches(self, message: str) -> bool:
        def kind(occurrence: Occurrence) -> list[Term]:
            return [term for term in self.terms if term.occurrence is occurrence]

        optional = kind(Occurrence.OPTIONAL)
        return (
            all(term.found_in(message) for term in kind(Occurrence.REQUIRED))
            and not any(term.found_in(message) for term in kind(Occurrence.EXCLUDED))
            and (not optional or any(term.found_in(message) for term in optional))
        )


#: One term: an optional ``?``/``-``, then a double-quoted phrase or a run of non-blank characters.
_TERM = re.compile(r'\s*(?P<prefix>[?-]?)(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))')


def term_pattern(pattern: str) -> TermPattern:
    """An unstructured pattern (terms, quoted phrases, ``?`` and ``-``); FilterPatternError if it is another
    syntax or malformed."""
    if pattern.strip().startswith(("{", "[")):
        raise FilterPatternError(f"{pattern!r}: a JSON or space-delimited pattern, not unstructured terms")
    terms: list[Term] = []
    position = 0
    while pattern[position:].strip():
        found = _TERM.match(pattern, position)
        if found is None:
            raise FilterPatternError(f"position {position}: unterminated quote or stray character in {pattern!r}")
        word = found.group("word")
        if word is not None and word.startswith("%"):
            raise FilterPatternError(f"{pattern!r}: regular-expression patterns (%...%) are not supported")
        terms.append(Term(found.group("phrase") if word is None else word, Occurrence(found.group("prefix"))))
        position = found.end()
        if position < len(pattern) and not pattern[position].isspace():
            raise FilterPatternError(f"position {position}: terms must be separated by spaces in {pattern!r}")
    return TermPattern(tuple(terms))


def matches(pattern: str, message: str | dict[str, Any]) -> bool:
    """Whether a metric filter with ``pattern`` counts the log event ``message`` (its text, or a parsed
    JSON event). A JSON pattern reads the event as JSON (a message that is not a JSON object never
    matches it); unstructured terms read its text (a parsed event as compact JSON text)."""
    if not pattern.strip().startswith("{"):
        text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        return term_pattern(pattern).matches(text)
    predicate = compile_pattern(pattern)
    if isinstance(message, str):
        try:
            message = json.loads(message)
        except json.JSONDecodeError:
            return False
    return isinstance(message, dict) and predicate(message)
