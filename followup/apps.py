from django.apps import AppConfig


class FollowupConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "followup"
    verbose_name = "Breast-care follow-up"

    def ready(self):
        from . import audit, flags, middleware  # noqa: F401 (connects their receivers)

        flags.connect()
