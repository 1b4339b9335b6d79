"""Sign-in's security events (issue 18): append-only on PostgreSQL, as the audit tables are."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from followup.migration_ops import guard_history


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("followup", "0010_audit_hardening"),
    ]

    operations = [
        migrations.CreateModel(
            name='SecurityEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('event', models.CharField(choices=[('signed_in', 'Logged in'), ('signed_in_sso', 'Logged in by single sign-on'), ('sso_refused', 'Single sign-on refused'), ('wrong_code', 'Wrong code entered'), ('app_set_up', 'Authenticator app set up'), ('recovery_code_used', 'Recovery code used'), ('recovery_codes_new', 'New recovery codes made'), ('app_reset', 'Authenticator app reset by an admin'), ('password_changed', 'Password changed'), ('password_reset', 'Password reset by an admin')], max_length=30)),
                ('address', models.GenericIPAddressField(blank=True, null=True)),
                ('detail', models.CharField(blank=True, default='', max_length=255)),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='security_events', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-at', '-pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('event__in', ['signed_in', 'signed_in_sso', 'sso_refused', 'wrong_code', 'app_set_up', 'recovery_code_used', 'recovery_codes_new', 'app_reset', 'password_changed', 'password_reset'])), name='accounts_securityevent_event_valid')],
            },
        ),
        guard_history("accounts", ["SecurityEvent"]),
    ]
