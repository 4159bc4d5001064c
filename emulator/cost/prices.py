"""AWS list prices: the table shipped with pipemu (``prices.json``), a region of it, and the user's overrides.

    table = load_prices(region="eu-west-1", overrides={"lambda.requests_million": 0.25})
    table.usd("lambda", "requests_million")

Every price carries the AWS pricing page it belongs to and how its figure was checked, so a bill can cite the
source of each line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from emulator.errors import ConfigError

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str  # the AWS pricing page
    checked: str  # "secondary: URL", "unconfirmed", or "override: where"


@dataclass(frozen=True)
class PriceTable:
    region: str
    version: str
    prices: dict[str, dict[str, Price]]

    def price(self, service: str, item: str) -> Price:
        try:
            return self.prices[service][item]
        except KeyError:
            raise ConfigError(f"no price for {service}.{item} in region {self.region}",
                              key=f"prices.{service}.{item}", hint="add it to a prices file") from None

    def usd(self, service: str, item: str) -> float:
        return self.price(service, item).usd


def bundled_document() -> dict[str, Any]:
    text = resources.files("emulator.cost").joinpath("prices.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read prices file: {exc.strerror}", file=path,
                          hint="prices_file is relative to the pyproject.toml that names it") from None
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past the parser's depth
        raise ConfigError(f"prices file is not JSON: {exc}", file=path,
                          hint="same shape as emulator/cost/prices.json") from None
    if not isinstance(data, dict) or not isinstance(data.get("regions"), dict):
        raise ConfigError("prices file has no 'regions' object", file=path, key="regions",
                          hint='{"regions": {"us-east-1": {"lambda": {"requests_million": {"usd": 0.2}}}}}')
    return data


def _merge_region(base: dict[str, dict[str, Price]], raw: Any, *, origin: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError("a region must map services to prices", file=origin)
    for service, items in raw.items():
        if not isinstance(items, dict):
            raise ConfigError("a service must map items to prices", file=origin, key=str(service))
        for item, entry in items.items():
            old = base.get(service, {}).get(item)
            usd = entry.get("usd") if isinstance(entry, dict) else entry
            if isinstance(usd, bool) or not isinstance(usd, int | float) or usd < 0:
                raise ConfigError(f"price must be a number >= 0, got {usd!r}", file=origin,
                                  key=f"{service}.{item}", hint='{"usd": 0.2} or a bare number')
            fields = entry if isinstance(entry, dict) else {}
            base.setdefault(service, {})[item] = Price(
                usd=float(usd),
                unit=str(fields.get("unit", old.unit if old else item)),
                source=str(fields.get("source", old.source if old else origin)),
                checked=str(fields.get("checked", f"override: {origin}")),
            )


def load_prices(
    region: str = DEFAULT_REGION, *, file: Path | None = None, overrides: dict[str, float] | None = None
) -> PriceTable:
    """The bundled table for ``region``, then ``file`` (same shape) merged over it, then ``overrides``
    (``"service.item": usd``)."""
    doc = bundled_document()
    regions: dict[str, Any] = doc["regions"]
    version = str(doc.get("version", "?"))
    extra = _read_file(file) if file is not None else None
    if region not in regions and (extra is None or region not in extra["regions"]):
        raise ConfigError(f"no prices for region {region}", key="cost_region",
                          hint=f"bundled regions: {', '.join(sorted(regions))}; or give a prices_file")
    table: dict[str, dict[str, Price]] = {
        service: {item: Price(float(e["usd"]), str(e["unit"]), str(e["source"]), str(e["checked"]))
                  for item, e in items.items()}
        for service, items in regions.get(region, {}).items()
    }
    if extra is not None and region in extra["regions"]:
        _merge_region(table, extra["regions"][region], origin=str(file))
        version = str(extra.get("version", version))
    for key, usd in (overrides or {}).items():
        service, _, item = key.partition(".")
        if not item:
            raise ConfigError(f"price override '{key}' should be service.item", key=f"tool.pipemu.prices.{key}",
                              hint="e.g. lambda.requests_million = 0.2")
        _merge_region(table, {service: {item: usd}}, origin="[tool.pipemu.prices]")
    return PriceTable(region=region, version=version, prices=table)


def as_dict(table: PriceTable) -> dict[str, Any]:
    return {
        "region": table.region,
        "version": table.version,
        "prices": {
            service: {item: vars(p) for item, p in items.items()} for service, items in table.prices.items()
        },
    }
