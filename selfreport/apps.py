from django.apps import AppConfig


class SelfReportConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "selfreport"
    verbose_name = "Patient self-reports"
