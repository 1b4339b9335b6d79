from django.contrib import admin
from django.urls import include, path

from accounts.views import admin_login
from followup.views.errors import health
from followup.views.session import stay_signed_in

admin.site.site_header = "Breast-care follow-up tracker"
admin.site.site_title = "Follow-up tracker admin"
# One way in for everyone: the admin site's login page would skip the second factor.
admin.site.login = admin_login

handler500 = "followup.views.errors.server_error"

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    # Logging in and out, single sign-on, and one's own password and second factor (accounts/). No
    # self-service sign-up or forgotten-password email: admins create accounts and reset passwords.
    path("", include("accounts.urls")),
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
