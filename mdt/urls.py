from django.urls import path

from . import views

app_name = "mdt"

urlpatterns = [
    path("recurrences/<int:pk>/mdt/new/", views.DiscussionRecordView.as_view(), name="discussion_record"),
    path("mdt/list/", views.prepare_list, name="prepare_list"),
    path("mdt/list/pdf/", views.prepare_list_pdf, name="prepare_list_pdf"),
]
