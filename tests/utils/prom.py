"""Read values out of a Prometheus text exposition (counters are process-wide: compare deltas)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(parsed: dict, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series has not appeared yet."""
    return parsed.get((name, frozenset(labels.items())), 0.0)
