from django.urls import path

from . import views

app_name = "letters"

urlpatterns = [
    path("patients/<int:pk>/letters/new/", views.LetterWriteView.as_view(), name="write"),
    path("patients/<int:pk>/letters/preview/", views.LetterPreviewView.as_view(), name="preview"),
    path("patients/<int:pk>/letters/issue/", views.LetterIssueView.as_view(), name="issue"),
    path("patients/<int:pk>/pifu/end/", views.PifuEndView.as_view(), name="pifu_end"),
    path("letters/<int:pk>/pdf/", views.letter_download, name="download"),
]
