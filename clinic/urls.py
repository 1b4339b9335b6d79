from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Breast-care follow-up tracker"
admin.site.site_title = "Follow-up tracker admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("followup.urls")),
]
