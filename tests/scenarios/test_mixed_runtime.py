"""The bundled mixed-runtime scenario: a Node.js SQS consumer (SDK v3, batch item failures) and a Python
function in one pipeline, with poison orders."""

from __future__ import annotations

from pathlib import Path

from node_deps import ensure_node_modules

ROOT = Path(__file__).resolve().parents[2]


def test_mixed_runtime_scenario_passes_and_dead_letters_the_poison_orders(pipemu) -> None:
    ensure_node_modules(ROOT / "fixtures" / "mixed-runtime" / "validate")

    result = pipemu.replay(ROOT / "scenarios" / "mixed-runtime.yaml")

    assert result.passed, result.summary()
    poison = [i for i in range(result.events.sent) if result.ledger.fate(i) == "dead_lettered"]
    assert poison, "the scenario's poison ratio makes some orders poison"
    assert result.events.delivered + len(poison) == result.events.sent
    assert result.functions["validate"]["runtime"] == "nodejs20.x"
    assert result.functions["price"]["runtime"] == "python3.12"
    assert result.functions["validate"]["invocations"] >= 1 and result.functions["price"]["invocations"] >= 1
