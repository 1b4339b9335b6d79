from django.contrib import admin
from django.urls import include, path

from followup.views.errors import health

admin.site.site_header = "Breast-care follow-up tracker"
admin.site.site_title = "Follow-up tracker admin"

handler500 = "followup.views.errors.server_error"

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("followup.urls")),
]
