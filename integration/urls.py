"""The integration's URLs: the API (token, no session) and the staff pages (session, no token)."""

from django.urls import path

from . import views_staff

app_name = "integration"

urlpatterns: list = [
    # Staff pages: the inbox message and placing it by hand (views_staff.py).
    path("results/inbox/<int:pk>/", views_staff.inbox_message, name="inbox_message"),
    path("results/inbox/<int:pk>/match/", views_staff.inbox_match, name="inbox_match"),
    path("results/inbox/<int:pk>/new-item/", views_staff.inbox_new_item, name="inbox_new_item"),
    path("results/inbox/<int:pk>/not-ours/", views_staff.inbox_not_ours, name="inbox_not_ours"),
    path("results/inbox/<int:pk>/amendment/", views_staff.inbox_amendment, name="inbox_amendment"),
]
