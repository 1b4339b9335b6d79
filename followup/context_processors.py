from django.urls import reverse


def navigation(request):
    """The header's navigation, with the current section marked."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        ("Dashboard", reverse("followup:dashboard")),
        ("Worklists", reverse("followup:worklists")),
        ("Patients", reverse("followup:patient_list")),
        ("Reports", reverse("followup:reports")),
    ]
    if user.is_admin_role:
        items.append(("Admin", reverse("admin:index")))
    path = request.path
    if path.startswith(reverse("followup:import_upload")):
        path = reverse("followup:patient_list")  # the caseload import is reached from, and belongs to, Patients
    current = max((href for _, href in items if path.startswith(href)), key=len, default=None)
    return {"nav_items": [(label, href, href == current) for label, href in items]}
