#!/usr/bin/env bash
# Refresh the vendored front-end files under static/vendor/ from npm, and the test-only
# axe-core under tests/e2e/vendor/ (never served: tests/e2e/test_accessibility.py injects it).
# Run by a developer when upgrading; CI and deployments use the committed files
# (no npm, no CDN: hospital networks block them).
set -euo pipefail
cd "$(dirname "$0")/.."

NHSUK=10.6.1      # nhsuk-frontend
HTMX=2.0.11       # htmx.org: stay on 2.x (npm's latest, 4.x, is a rewrite)
CHARTJS=4.6.1     # chart.js
AXE=4.14.1        # axe-core: the accessibility check of the browser tests only

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "nhsuk-frontend@$NHSUK" "htmx.org@$HTMX" "chart.js@$CHARTJS" "axe-core@$AXE" >/dev/null)
for pkg in "$work"/*.tgz; do mkdir -p "${pkg%.tgz}" && tar xzf "$pkg" -C "${pkg%.tgz}"; done

dest=static/vendor
rm -rf "$dest" && mkdir -p "$dest/nhsuk" "$dest/htmx" "$dest/chartjs"

src="$work/nhsuk-frontend-$NHSUK/package/dist/nhsuk"
# The Frutiger @font-face rules load from assets.nhs.uk (a CDN): drop them, so
# text uses the design system's Arial fallback. Image URLs become relative, and
# the source-map comment goes (the map no longer matches the edited file).
sed -e 's#@font-face{[^}]*assets\.nhs\.uk[^}]*}##g' \
    -e 's#url(/assets/images/#url(assets/images/#g' \
    -e 's#/\*\# sourceMappingURL=[^*]*\*/##' \
    "$src/nhsuk-frontend.min.css" > "$dest/nhsuk/nhsuk-frontend.min.css"
cp "$src/nhsuk-frontend.min.js" "$src/nhsuk-frontend.min.js.map" "$dest/nhsuk/"
mkdir -p "$dest/nhsuk/assets/images"
cp "$src"/assets/images/*.svg "$src"/assets/images/*.png "$src"/assets/images/favicon.ico "$dest/nhsuk/assets/images/"
cp "$work/nhsuk-frontend-$NHSUK/package/LICENSE"* "$dest/nhsuk/" 2>/dev/null || true

cp "$work/htmx.org-$HTMX/package/dist/htmx.min.js" "$dest/htmx/"
cp "$work/htmx.org-$HTMX/package/LICENSE" "$dest/htmx/" 2>/dev/null || true
cp "$work/chart.js-$CHARTJS/package/dist/chart.umd.min.js" "$work/chart.js-$CHARTJS/package/dist/chart.umd.min.js.map" "$dest/chartjs/"
cp "$work/chart.js-$CHARTJS/package/LICENSE.md" "$dest/chartjs/" 2>/dev/null || true

cat > "$dest/VERSIONS" <<TXT
nhsuk-frontend $NHSUK
htmx.org $HTMX
chart.js $CHARTJS
TXT
# axe-core is a test tool: outside static/, so no page can ever load it.
tests=tests/e2e/vendor/axe-core
rm -rf "$tests" && mkdir -p "$tests"
cp "$work/axe-core-$AXE/package/axe.min.js" "$work/axe-core-$AXE/package/LICENSE" "$tests/"
echo "axe-core $AXE" > "$tests/VERSION"

if grep -q "assets.nhs.uk" "$dest/nhsuk/nhsuk-frontend.min.css"; then
  echo "A CDN reference is left in the NHS.UK CSS" >&2; exit 1
fi
echo "Vendored into $dest:"; cat "$dest/VERSIONS"
echo "Vendored into $tests:"; cat "$tests/VERSION"
