"""Real-browser tests: Chromium driven by Playwright, accessibility checked by axe-core.

Fixtures live in `conftest.py`; the helpers the tests call are here:
`login`, `assert_accessible`, `screenshot`, and the layout checks `assert_fits_viewport`
and `assert_no_word_broken_in_cells`.
"""

from functools import cache
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests" / "screenshots"

# RGAA 4 follows WCAG 2.1 levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def login(page, user, password=PASSWORD):
    """Sign in through the real login form, as a person would; a user who needs a second
    factor (comptes.second_factor: an Administrateur, the national administrator) then
    types one of their recovery codes, as they may."""
    recovery_code = second_factor_code(user)
    page.goto(reverse("login"))
    form = page.locator("main form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=username]").fill(user.get_username())
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    if recovery_code is not None:
        assert page.url.split("?")[0].endswith(reverse("second_factor")), page.url
        form = page.locator("main form").filter(has=page.locator("input[name=code]"))
        form.locator("input[name=code]").fill(recovery_code)
        with page.expect_navigation():
            form.locator("[type=submit]").click()
    assert "/connexion/" not in page.url, f"La connexion de {user} a échoué : {page.url}"


def second_factor_code(user):
    """For a user whose password login asks a second factor: a confirmed authenticator
    (if they have none) and a fresh recovery code, returned; else None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from comptes import second_factor

    user = type(user)._default_manager.get(pk=user.pk)  # the test's object keeps no cache
    if not second_factor.asks_second_factor(user):
        return None
    if second_factor.confirmed_device(user) is None:
        TOTPDevice.objects.create(user=user, name=second_factor.DEVICE_NAME, confirmed=True)
    return second_factor.new_recovery_codes(user)[0]


@cache
def _axe_source():
    return AXE_PATH.read_text(encoding="utf-8")


def assert_accessible(page, tags=AXE_TAGS, preload=True):
    """Run axe-core (WCAG 2.1 A and AA, or these `tags`) on the page and fail on any
    violation.

    axe is evaluated through the DevTools protocol rather than a <script> tag, so a
    strict Content-Security-Policy on the site cannot block it. `preload=False`: axe
    does not re-parse the stylesheets (it parses one imported by @import, as Django's
    admin's forms.css imports widgets.css, through a <style> that the CSP blocks, a console
    error of axe's own).
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    violations = page.evaluate(
        """([tags, preload]) => axe.run(document, {runOnly: {type: 'tag', values: tags}, preload})
            .then(results => results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(' ')),
                summaries: v.nodes.map(n => n.failureSummary),
            })))""",
        [list(tags), preload],
    )
    if violations:
        lines = [f"axe-core : {len(violations)} règle(s) non respectée(s) sur {page.url}"]
        for violation in violations:
            lines.append(
                f"- {violation['id']} ({violation['impact']}) : {violation['help']}"
                f" <{violation['helpUrl']}>"
            )
            for target, summary in zip(violation["targets"], violation["summaries"], strict=True):
                lines.append(f"    {target}")
                lines.extend(f"      {line}" for line in (summary or "").splitlines())
        pytest.fail("\n".join(lines), pytrace=False)


def screenshot(page, name):
    """Save a full-page PNG under tests/screenshots/, named by page type."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    return path


# Elements whose box goes past the right edge of the window, outside any container that
# scrolls sideways on its own (a wide table in its scrolling region is fine). Elements
# hidden from sight (the text for screen readers only, clipped to a pixel) are left out.
_OVERFLOWING = """() => {
    const width = document.documentElement.clientWidth;
    const scrolls = element => {
        for (let e = element.parentElement; e && e !== document.body; e = e.parentElement) {
            if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX)) {
                return true;
            }
        }
        return false;
    };
    return [...document.body.querySelectorAll('*')]
        .filter(e => !e.closest('.visuellement-cache') && e.getClientRects().length)
        .filter(e => e.getBoundingClientRect().right > width + 1 && !scrolls(e))
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
             + ' : ' + Math.round(e.getBoundingClientRect().right) + ' px');
}"""

# The words of table cells drawn on more than one line: a word (a run of characters
# without white space or hyphen) whose boxes are not all on one line was cut inside.
_BROKEN_WORDS = """() => {
    const found = [];
    for (const cell of document.querySelectorAll('td, th')) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest('.visuellement-cache')) continue;
            for (const match of node.textContent.matchAll(/[^\\s\\-‐‑]+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const tops = new Set([...range.getClientRects()]
                    .filter(r => r.width > 0).map(r => Math.round(r.top)));
                if (tops.size > 1) found.push(match[0]);
            }
        }
    }
    return found;
}"""


def assert_fits_viewport(page):
    """No element of the page is wider than the window (outside its own scrolling
    container): nothing to scroll sideways for, nothing cut off."""
    overflowing = page.evaluate(_OVERFLOWING)
    assert not overflowing, f"{page.url} : éléments plus larges que la fenêtre : {overflowing[:10]}"


def assert_no_word_broken_in_cells(page):
    """No word of a table cell is cut in the middle to fit a narrow column."""
    broken = page.evaluate(_BROKEN_WORDS)
    assert not broken, f"{page.url} : mots coupés dans un tableau : {broken[:10]}"
