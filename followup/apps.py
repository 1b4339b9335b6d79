from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FollowupConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "followup"
    verbose_name = "Breast-care follow-up"

    def ready(self):
        from . import audit, flags, middleware  # noqa: F401 (connects their receivers)

        flags.connect()
        # A row for every patient who has none, by today's rules, once every migration has run.
        post_migrate.connect(flags.fill_missing, sender=self, dispatch_uid="flags-fill-missing")
