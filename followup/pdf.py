"""PDFs from Django templates (letters, the MDT list), through WeasyPrint: the one module that speaks PDF.

Rendering never reaches the network: the only files a document may load are the app's own static
files (its stylesheet, the NHS logo), found through Django's static finders; any other URL is refused.
WeasyPrint needs Pango, HarfBuzz, fontconfig and a font package on the machine (Makefile, .ci/run).
"""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

STATIC_BASE = "app-static:/"


class RefusedResource(ValueError):
    """A document asked for something outside the app's static files."""


def _static_path(url: str) -> Path:
    """app-static:/css/pdf.css -> that static file (through the finders, else STATIC_ROOT)."""
    if not url.startswith(STATIC_BASE):
        raise RefusedResource(f"A PDF may only load the app's static files, not {url!r}.")
    relative = url.removeprefix(STATIC_BASE).lstrip("/")
    found = finders.find(relative)
    if not found and settings.STATIC_ROOT:
        root = Path(settings.STATIC_ROOT).resolve()
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            found = str(candidate)
    if not found:
        raise RefusedResource(f"No static file {relative!r} for a PDF.")
    return Path(found)


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves the app's static files and nothing else: no network, no file: URLs."""

        def fetch(self, url, headers=None):
            path = _static_path(url)
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": mime_type})

    return StaticOnlyFetcher()


def render_pdf(template_name: str, context: dict) -> bytes:
    """The template rendered to a PDF. Templates link static files as "{{ pdf_static }}css/pdf.css"."""
    return html_to_pdf(render_to_string(template_name, {**context, "pdf_static": STATIC_BASE}))


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: 0.4 s, and only the pages that print need it

    return HTML(string=html, base_url=STATIC_BASE, url_fetcher=_fetcher()).write_pdf()
