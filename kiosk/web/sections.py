"""The board's sections and the pages that show them.

A section is one template and one query call: ``load(queries, filters)`` returns what its
template (under ``templates/sections/``) draws. A page lists its sections; the live stream
pushes each of a page's sections again when the database changes. Adding a section (open
problems) is a template, a ``Section`` here and its name in a ``Page``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from kiosk.loans.day import day_report
from kiosk.loans.queries import Queries
from kiosk.views import day_lines


@dataclass(frozen=True)
class Filters:
    """What the board is narrowed to (from the page's address, checked)."""

    kind: str = ""
    overdue: bool = False

    @classmethod
    def from_query(cls, params: Mapping[str, str], kinds: Collection[str]) -> Filters:
        kind = params.get("kind", "")
        return cls(
            kind=kind if kind in kinds else "",
            overdue=params.get("overdue", "") in ("1", "on", "yes", "true"),
        )

    def query(self) -> dict[str, str]:
        out = {}
        if self.kind:
            out["kind"] = self.kind
        if self.overdue:
            out["overdue"] = "1"
        return out

    def query_string(self) -> str:
        return urlencode(self.query())

    @property
    def active(self) -> bool:
        return bool(self.kind or self.overdue)


Load = Callable[[Queries, Filters], Mapping[str, Any]]


@dataclass(frozen=True)
class Section:
    name: str
    """Its id in pages and in the live stream (letters and dashes)."""
    title: str
    """Its heading."""
    template: str
    """The fragment template that draws it."""
    load: Load
    """The one query call that fetches what the template draws."""

    def bind(self, filters: Filters) -> Callable[[Queries], Mapping[str, Any]]:
        """``load`` for these filters, to run where the queries are (``Reads``)."""
        return lambda q: self.load(q, filters)


def _out_now(q: Queries, f: Filters) -> Mapping[str, Any]:
    loans = q.board(kind=f.kind or None, overdue_only=f.overdue)
    return {"loans": loans, "overdue": sum(v.overdue for v in loans), "filters": f}


def _trip_phones(q: Queries, f: Filters) -> Mapping[str, Any]:
    # Off site: whatever left the premises (trip phones, and any kind a school lets leave).
    return {"loans": [v for v in q.board() if v.off_site]}


def _open_problems(q: Queries, f: Filters) -> Mapping[str, Any]:
    # The office board's list (kiosk.loans.problems): each stays until the office records
    # at the kiosk what happened; the board only shows them.
    # Its count is of every open problem, also those past the end of the list.
    return {"listed": q.open_problem_list()}


def _today(q: Queries, f: Filters) -> Mapping[str, Any]:
    # The kiosk's office "Today" view, from the same read (kiosk.loans.day) in the same
    # order (kiosk.views.day_lines): what needs doing first, then calls, loans and returns.
    report = day_report(q)
    return {"report": report, "lines": day_lines(report)}


SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section("out", "Out now", "sections/out.html", _out_now),
        Section("trips", "Trip phones off site", "sections/trips.html", _trip_phones),
        Section("problems", "Open problems", "sections/problems.html", _open_problems),
        Section("today", "Today", "sections/today.html", _today),
    )
}


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    title: str
    sections: tuple[str, ...]
    filters: bool = False
    """Whether the page offers the kind / overdue filters."""


PAGES: dict[str, Page] = {
    p.name: p
    for p in (
        Page("trips", "/trips", "Trip phones off site", ("trips",)),
        Page("board", "/", "Out now", ("out",), filters=True),
        Page("problems", "/problems", "Open problems", ("problems",)),
        Page("today", "/today", "Today", ("today",)),
    )
}
