# SPDX-License-Identifier: GPL-3.0-or-later
"""A fast Prometheus text format (0.0.4) writer for counter and gauge families.

prometheus_client's generate_latest escapes and sorts every label of every sample: with 50 containers (about 1,500
samples, 10 labels each) that alone took 200-700 ms here. Every family of one container carries the same label
values, so this writer renders each distinct label set once and reuses the string, across families and scrapes.
Families of other types are handed to generate_latest unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client import generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import CollectorRegistry

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_SIMPLE = {"counter", "gauge", "unknown"}
LABEL_CACHE_LIMIT = 20000


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """Go's strconv style where it matters to parsers: integers without '.0', and +Inf / -Inf / NaN."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class TextWriter:
    """Renders a registry; remembers label strings between scrapes (bounded)."""

    def __init__(self) -> None:
        self.label_cache: dict[tuple[tuple[str, str], ...], str] = {}

    def _label_string(self, labels: dict[str, str]) -> str:
        key = tuple(labels.items())
        text = self.label_cache.get(key)
        if text is None:
            if len(self.label_cache) >= LABEL_CACHE_LIMIT:
                self.label_cache.clear()
            inner = ",".join(f'{name}="{_escape_value(value)}"' for name, value in key)
            text = "{" + inner + "}" if inner else ""
            self.label_cache[key] = text
        return text

    def render(self, families: Iterable[Metric]) -> bytes:
        out: list[str] = []
        # Samples of one container share one labels dict: look it up by identity first. Every family stays
        # referenced in `kept` until the end, so no dict is freed and no id reused during the render.
        by_id: dict[int, str] = {}
        kept: list[Metric] = []

        def label_string(labels: dict[str, str]) -> str:
            text = by_id.get(id(labels))
            if text is None:
                text = by_id[id(labels)] = self._label_string(labels)
            return text

        for family in families:
            kept.append(family)
            if family.type not in _SIMPLE:
                registry = CollectorRegistry(auto_describe=False)
                registry.register(_Fixed([family]))
                out.append(generate_latest(registry).decode())
                continue
            name = family.name + "_total" if family.type == "counter" else family.name
            kind = "untyped" if family.type == "unknown" else family.type
            out.append(f"# HELP {name} {_escape_help(family.documentation)}\n# TYPE {name} {kind}\n")
            out.extend(
                f"{sample.name}{label_string(sample.labels)} {format_value(sample.value)}\n"
                for sample in family.samples
                if not sample.name.endswith("_created")
            )
        return "".join(out).encode()


class _Fixed:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families
