"""The checks tests/e2e/test_accessibility.py runs on every page state: axe-core, the page's width,
the NHS.UK frontend's JavaScript, the skip link, the error summary's focus, worklist rows at 1024.

Each check returns the problems it found as sentences ([] for none), so one run reports them all.
"""

from pathlib import Path

from playwright.sync_api import Page

# axe-core from npm, vendored by scripts/vendor-frontend.sh outside static/: no page can load it.
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]

# The pages' Content-Security-Policy refuses an injected <script> (page.add_script_tag). Playwright's
# evaluate runs through the DevTools protocol, which the CSP does not govern: axe is defined by calling
# its source as a function body, and the pages keep their real CSP (a refusal still shows as an error).
_DEFINE_AXE = "() => {\n" + AXE_SOURCE + "\n}"

_RUN_AXE = """options => axe.run(document, options).then(results => results.violations.map(violation => ({
    rule: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.map(node => node.target.join(" ")),
})))"""


# The page as a person sees it once it has settled. The NHS.UK header lays its menu out again on the
# animation frame after its ResizeObserver's first report, which can come after the load event: axe run
# before that frame lists the header's links where they stand, they move into the hidden "More" menu
# mid-run, and axe then measures them against what lies under their old place (a CI run failed so).
_SETTLED = """() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(() => resolve(true))))"""


def axe_problems(page: Page) -> list[str]:
    """axe-core's violations of WCAG 2.2 A and AA: one sentence per rule, naming the elements."""
    page.evaluate(_SETTLED)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_DEFINE_AXE)
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    violations = page.evaluate(_RUN_AXE, options)
    problems = []
    for v in violations:
        shown = ", ".join(v["targets"][:4]) + (f" and {len(v['targets']) - 4} more" if len(v["targets"]) > 4 else "")
        problems.append(f"axe {v['rule']} ({v['impact']}, {len(v['targets'])}x): {v['help']}: {shown}")
    return problems


def width_problems(page: Page) -> list[str]:
    """The page scrolls sideways: wider than the viewport."""
    scroll_width, inner_width, widest = page.evaluate(
        """() => {
            let widest = "";
            let right = window.innerWidth;
            for (const el of document.querySelectorAll("body *")) {
                const r = el.getBoundingClientRect();
                if (r.right > right + 0.5) {
                    const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/) : [];
                    right = r.right;
                    widest = [el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""), ...classes].join(".");
                }
            }
            return [document.documentElement.scrollWidth, window.innerWidth, widest];
        }"""
    )
    if scroll_width <= inner_width:
        return []
    return [f"page wider than the viewport: {scroll_width}px in {inner_width}px (widest: {widest})"]


def frontend_problems(page: Page) -> list[str]:
    """The NHS.UK frontend's JavaScript did not start (its body snippet)."""
    if page.evaluate("() => document.body.classList.contains('nhsuk-frontend-supported')"):
        return []
    return ["no nhsuk-frontend-supported on <body>: the NHS.UK frontend's JavaScript does not start"]


def skip_link_problems(page: Page) -> list[str]:
    """The skip link, focused and pressed, moves the focus to the main content."""
    link = page.locator("a.nhsuk-skip-link")
    if link.count() != 1:
        return [f"{link.count()} skip links"]
    link.focus()
    page.keyboard.press("Enter")
    focused = page.evaluate("() => document.activeElement.id || document.activeElement.tagName.toLowerCase()")
    if focused == "maincontent":
        return []
    return [f"skip link moved the focus to {focused}, not to the main content"]


_FOCUSED = """() => {
    const el = document.activeElement;
    return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name") || "",
            summary: !!el.closest(".nhsuk-error-summary")};
}"""


def error_summary_problems(page: Page) -> list[str]:
    """After a failed submit: the error summary has the focus, and each of its links moves the focus to
    its field (the first input of a group of radios or checkboxes)."""
    summary = page.locator(".nhsuk-error-summary")
    if summary.count() == 0:
        return ["no error summary after the failed submit"]
    problems = []
    focused = page.evaluate(_FOCUSED)
    if not focused["summary"]:
        problems.append(f"after the failed submit the focus is on <{focused['tag']}>, not on the error summary")
    for link in summary.locator(".nhsuk-error-summary__list a").all():
        href, text = link.get_attribute("href") or "", link.inner_text().strip()
        link.click()
        focused = page.evaluate(_FOCUSED)
        target = href[1:] if href.startswith("#") else ""
        lands = page.evaluate(
            """([target]) => {
                const el = document.activeElement;
                const field = target && document.getElementById(target);
                return ["input", "select", "textarea"].includes(el.tagName.toLowerCase())
                    && !!field && (el === field || field.contains(el));
            }""",
            [target],
        )
        if not lands:
            at = f"<{focused['tag']}{' id=' + focused['id'] if focused['id'] else ''}>"
            problems.append(f'error summary link "{text}" (href "{href}") moved the focus to {at}, not to its field')
    return problems


_ROW_CONTROLS_OUTSIDE = """() => {
    const outside = [];
    const rows = document.querySelectorAll("main table tbody tr");
    rows.forEach((row, index) => {
        for (const el of row.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea")) {
            const r = el.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;  // not displayed (a closed disclosure)
            let left = 0, right = window.innerWidth;
            for (let p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
                if (getComputedStyle(p).overflowX !== "visible") {
                    const box = p.getBoundingClientRect();
                    left = Math.max(left, box.left);
                    right = Math.min(right, box.right);
                }
            }
            if (r.left < left - 0.5 || r.right > right + 0.5) {
                const words = (el.getAttribute("aria-label") || el.innerText || el.value || "").trim()
                    .replace(/\\s+/g, " ");
                const at = `${Math.round(r.left)}-${Math.round(r.right)}px`;
                const visible = `${Math.round(left)}-${Math.round(right)}px`;
                const control = `${el.tagName.toLowerCase()} "${words.slice(0, 60)}"`;
                outside.push(`row ${index + 1}: ${control} at ${at}, visible ${visible}`);
            }
        }
    });
    return [rows.length, outside];
}"""


def row_control_problems(page: Page) -> list[str]:
    """Every link, button, input and select of every table row lies inside the viewport (and inside any
    scrolling box around the table): nothing a nurse acts on is clipped."""
    rows, outside = page.evaluate(_ROW_CONTROLS_OUTSIDE)
    if rows == 0:
        return ["no table rows to check"]
    return [f"row control outside the viewport: {where}" for where in outside]
