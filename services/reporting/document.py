"""The published form of a report: what every output (JSON, CSV, XLSX, PDF, dashboard)
renders. Built by the report kinds from protected tables; holds no personal data and no
unprotected count."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.disclosure import Message, ProtectedTable, Suggestion


class Text(BaseModel):
    """A label or sentence, Dutch first, English second."""

    model_config = ConfigDict(frozen=True)

    nl: str
    en: str


class TableView(BaseModel):
    """A protected table with what a reader needs around it."""

    indicator: str = Field(description="Code of the indicator in the catalogue (docs/indicators.md).")
    title: Text
    unit: Text
    table: ProtectedTable
    row_labels: dict[str, Text] = Field(default_factory=dict, description="Label per row key; '*' is the total.")
    col_labels: dict[str, Text] = Field(default_factory=dict, description="Label per column key; '*' is the total.")
    chart: Literal["bar", "stacked_bar", "line", "funnel", "none"] = "bar"


class StatisticView(BaseModel):
    """A mean, median or percentage, shown only over enough units."""

    indicator: str
    title: Text
    unit: Text
    value: float | None
    units: int | None = Field(None, description="How many units it is computed over, when shown.")
    withheld: Message | None = Field(None, description="Why it is not shown.")


class Section(BaseModel):
    key: str
    title: Text
    intro: Text | None = None
    tables: list[TableView] = Field(default_factory=list)
    statistics: list[StatisticView] = Field(default_factory=list)


class Definition(BaseModel):
    indicator: str
    title: Text
    formula: Text
    unit: Text
    sources: list[str] = Field(description="Event types that feed it.")


class Period(BaseModel):
    start: str = Field(description="First day, ISO date.")
    end: str = Field(description="Last day, ISO date.")
    grain: Literal["month", "quarter", "year"]


class ReportDocument(BaseModel):
    kind: str
    title: Text
    audience: Literal["government", "coordinator", "project"]
    scope: dict[str, str] = Field(description="What the report covers, e.g. {'region': 'antwerpen-kempen'}.")
    scope_label: Text
    period: Period
    basis: Literal["occurred", "recorded"] = Field(
        description="'occurred': about what happened in the period; 'recorded': as known on a date.")
    as_known_on: str | None = None
    sections: list[Section]
    definitions: list[Definition]
    notes: list[Message] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)
