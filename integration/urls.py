"""The integration's URLs: the API (token, no session) and the staff pages (session, no token)."""

app_name = "integration"

urlpatterns: list = []
