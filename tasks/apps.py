from django.apps import AppConfig


class TasksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tasks"
    verbose_name = "Tasks"

    def ready(self):
        # Every worklist row offers "Add a task" for its patient (followup.tables.cells.ROW_EXTRA_LINKS).
        from followup.tables import cells

        from .tables import add_task_link

        if add_task_link not in cells.ROW_EXTRA_LINKS:
            cells.ROW_EXTRA_LINKS.append(add_task_link)
