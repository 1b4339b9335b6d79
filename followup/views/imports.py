"""The caseload import, for admins: upload and check (a dry run), then confirm.

Between the check and the confirmation the upload waits on the server, in a temporary file
named by a random token kept in the session with the file's SHA-256. The confirmation sends
back only the token; the file is read again, checked again, and imported only if the check
still says exactly what the admin saw.
"""

import hashlib
import secrets
import tempfile
import time
from math import ceil
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import DatabaseError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import import_files, imports
from ..display import plural
from ..models import Team
from ..nhs import format_nhs_number
from ..permissions import can_administer

SESSION_KEY = "caseload_import"
KEEP_SECONDS = 24 * 60 * 60
# Where the streamed import page is cut to insert the progress lines and the outcome.
PROGRESS, OUTCOME = "@@import-progress@@", "@@import-outcome@@"


class ImportUploadForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        empty_label="Choose a team",
        label="Import into",
        help_text="New patients join this team; every named nurse must be one of its nurses.",
    )
    file = forms.FileField(label="CSV or XLSX file", help_text="The first sheet of a workbook is read.")

    def __init__(self, *args, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        if too_large:
            self.fields["file"].required = False  # it was dropped as it arrived: say why, not "required"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if self.too_large or upload.size > import_files.MAX_FILE_BYTES:
            raise forms.ValidationError(import_files.file_too_large_message())
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Choose a CSV or XLSX file.")
        return upload


class SizeLimitedUploadHandler(FileUploadHandler):
    """Drops an uploaded file as soon as it passes the import's size limit, and notes that it did.

    Nothing beyond the limit is kept, in memory or on disk; the rest of the request is read and thrown
    away, so the page can still answer with the message beside the field.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > import_files.MAX_FILE_BYTES:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) keeps the file


def _require_admin(user) -> None:
    if not can_administer(user):
        raise PermissionDenied("Only admins import caseloads.")


# The upload waiting for confirmation ------------------------------------------------


def _upload_dir() -> Path:
    return Path(getattr(settings, "CASELOAD_IMPORT_DIR", None) or Path(tempfile.gettempdir()) / "caseload-import")


def _keep(request, content: bytes, *, plan: imports.Plan, filename: str) -> str:
    _forget(request)
    folder = _upload_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in folder.glob("*.upload"):  # uploads never confirmed
        if old.stat().st_mtime < time.time() - KEEP_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.upload").write_bytes(content)
    request.session[SESSION_KEY] = {
        "token": token,
        "sha256": hashlib.sha256(content).hexdigest(),
        "team": plan.team.pk,
        "filename": filename,
        "digest": plan.digest,
    }
    return token


def _forget(request) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        (_upload_dir() / f"{pending['token']}.upload").unlink(missing_ok=True)


def _kept_content(pending: dict) -> bytes | None:
    """The waiting upload, if it is still there and unchanged."""
    try:
        content = (_upload_dir() / f"{pending['token']}.upload").read_bytes()
    except OSError:
        return None
    return content if hashlib.sha256(content).hexdigest() == pending["sha256"] else None


# Views --------------------------------------------------------------------------


@csrf_exempt  # only until the size limit is in place: _import_upload checks the CSRF token
@require_http_methods(["GET", "POST"])
def import_upload(request):
    _require_admin(request.user)
    # Upload handlers must be set before anything reads the body, and the CSRF check reads it.
    limit = SizeLimitedUploadHandler(request)
    request.upload_handlers.insert(0, limit)
    return _import_upload(request, limit)


@csrf_protect
def _import_upload(request, limit: SizeLimitedUploadHandler):
    posted = request.method == "POST"
    form = ImportUploadForm(
        request.POST if posted else None, request.FILES if posted else None, too_large=posted and limit.too_large
    )
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            plan = imports.build_plan(content, team=form.cleaned_data["team"])
        except imports.ImportFileError as exc:
            form.add_error("file", exc)
        else:
            if plan.can_import:
                token = _keep(request, content, plan=plan, filename=upload.name)
            else:
                _forget(request)
                token = None
            return _preview(request, plan, filename=upload.name, token=token)
    return _upload_page(request, form)


def _upload_page(request, form, *, status=200, message=""):
    context = {
        "form": form,
        "columns": imports.COLUMNS,
        "message": message,
        "max_rows": import_files.MAX_ROWS,
        "max_megabytes": import_files.MAX_FILE_BYTES // (1024 * 1024),
        "example_nhs_number": format_nhs_number(imports.EXAMPLE_NHS_NUMBER),
    }
    return render(request, "followup/import_upload.html", context, status=status)


def _preview(request, plan: imports.Plan, *, filename: str, token: str | None, changed: bool = False):
    context = {
        "plan": plan,
        "counts": plan.counts,
        "filename": filename,
        "token": token,
        "changed": changed,
        "title": "Check the import",
    }
    return render(request, "followup/import_preview.html", context)


@require_POST
def import_confirm(request):
    _require_admin(request.user)
    pending = request.session.get(SESSION_KEY)
    if not pending or not constant_time_compare(request.POST.get("token", ""), pending["token"]):
        # Only this session's own waiting upload can be confirmed; any other is unknown here.
        return _not_waiting(request)
    content = _kept_content(pending)
    team = Team.objects.filter(pk=pending["team"]).first()
    if content is None or team is None:
        _forget(request)
        return _not_waiting(request)
    plan = imports.build_plan(content, team=team)
    if not plan.can_import or plan.digest != pending["digest"]:
        # The records changed since the check: show the new check; never import what was not seen.
        if plan.can_import:
            pending["digest"] = plan.digest
            request.session.modified = True
        else:
            _forget(request)
        token = pending["token"] if plan.can_import else None
        return _preview(request, plan, filename=pending["filename"], token=token, changed=True)
    # Before the body streams: the session is saved with the response headers.
    _forget(request)
    return _stream_import(request, plan, filename=pending["filename"])


def _not_waiting(request) -> HttpResponse:
    message = (
        "This upload is not waiting to be imported: it was imported already, replaced by a newer upload, "
        "or belongs to another session. Upload the file again to check it."
    )
    return _upload_page(request, ImportUploadForm(), status=404, message=message)


def _stream_import(request, plan: imports.Plan, *, filename: str) -> StreamingHttpResponse:
    """The import page, sent while the import runs: a progress line every tenth of the rows, then the outcome.

    Rendered up front (with the session, messages and CSRF token); only the rows stream.
    """
    todo = len(plan.to_write)
    context = {"plan": plan, "counts": plan.counts, "filename": filename, "todo": todo}
    head, rest = render_to_string(
        "followup/import_run.html", {**context, "progress": PROGRESS, "outcome": OUTCOME}, request=request
    ).split(PROGRESS)
    middle, tail = rest.split(OUTCOME)
    step = max(1, min(250, ceil(todo / 10)))

    def page():
        yield head
        done, errors = 0, []
        writes = imports.apply_plan(plan, by=request.user)
        try:
            for done in writes:
                if done % step == 0 or done == todo:
                    yield f"<li>{done:,} of {plural(todo, 'row')} processed</li>\n"
        except ValidationError as exc:
            errors = exc.messages
        except DatabaseError:
            errors = [f"The database refused row {plan.to_write[done].number}; someone may have changed it."]
        finally:
            writes.close()  # a browser gone mid-import: the transaction rolls back, nothing half-done stays
        yield middle
        yield render_to_string("followup/import_done.html", {**context, "errors": errors}, request=request)
        yield tail

    response = StreamingHttpResponse(page(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # a proxy would otherwise hold the progress lines back
    return response


@require_GET
def import_template(request):
    _require_admin(request.user)
    response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="caseload-import-template.csv"'
    return response
