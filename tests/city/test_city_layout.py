"""The city service is its own program: from the hub it takes the blacklist rules (one
copy of the rules for halls and city) and the web server wrapper, nothing else; the hub
never imports the city. What they say to each other is in protocol/city_sync.py."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def test_the_city_takes_the_rules_and_the_web_server_from_the_hub() -> None:
    ours = {m for m in imports("city") if m.split(".")[0] in ("hub", "kiosk", "hallsim",
                                                                "caller_display")}
    assert ours == {"hub.blacklist_rules", "hub.web.server"}


def test_the_hub_never_imports_the_city() -> None:
    assert not {m for m in imports("hub") if m.split(".")[0] == "city"}
