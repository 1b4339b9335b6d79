from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from followup.views.errors import health
from followup.views.session import stay_signed_in

admin.site.site_header = "Breast-care follow-up tracker"
admin.site.site_title = "Follow-up tracker admin"

handler500 = "followup.views.errors.server_error"

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    # Log in and out only: no self-service sign-up or password reset (admins do both).
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/stay-signed-in/", stay_signed_in, name="stay_signed_in"),
    path("", include("integration.urls")),
    path("", include("selfreport.urls")),
    path("", include("alerts.urls")),
    path("", include("mdt.urls")),
    path("", include("tasks.urls")),
    path("", include("contacts.urls")),
    path("", include("letters.urls")),
    path("", include("followup.urls")),
]
