"""axe-core (from node_modules, installed by bin/setup) run on a page in a real browser."""

from __future__ import annotations

from tests.services import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page, impacts: tuple[str, ...] = ("minor", "moderate", "serious", "critical")) -> list[str]:
    """axe's WCAG 2 A/AA violations of the given impacts on the page as it is now, one line
    each, naming the elements."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run bin/setup (it installs axe-core with npm).")
    # Evaluated through the DevTools protocol, so the page's content security policy stays on.
    page.evaluate(AXE.read_text())
    violations = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
        "'best-practice']})).violations"
    )
    return [
        f"{violation['id']}: {violation['help']} — {', '.join(str(node['target']) for node in violation['nodes'])}"
        for violation in violations
        if violation["impact"] in impacts
    ]
