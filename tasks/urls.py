from django.urls import path

from . import views

app_name = "tasks"

urlpatterns = [
    path("patients/<int:pk>/tasks/new/", views.TaskAddView.as_view(), name="task_add"),
    path("tasks/<int:pk>/done/", views.TaskDoneView.as_view(), name="task_done"),
    path("tasks/<int:pk>/cancel/", views.TaskCancelView.as_view(), name="task_cancel"),
    path("tasks/<int:pk>/reassign/", views.TaskReassignView.as_view(), name="task_reassign"),
]
