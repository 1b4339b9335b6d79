"""Serve HL7v2 over MLLP for one registered API client (integration/mllp.py says what it does)."""

import signal

from django.core.management.base import BaseCommand, CommandError

from integration.mllp import Listener
from integration.models import ApiClient


class Command(BaseCommand):
    help = "Listen for HL7v2 ORU^R01 messages over MLLP (one ACK per message) for one API client."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=2575, help="TCP port (default 2575)")
        parser.add_argument("--client", required=True, help="the registered API client's name (it must send)")
        parser.add_argument("--idle-timeout", type=float, default=300, help="seconds before an idle connection closes")

    def handle(self, *args, **options):
        client = ApiClient.objects.filter(name=options["client"]).first()
        if client is None:
            raise CommandError(f"No API client is called {options['client']!r}: an admin registers it first.")
        if not client.is_active or not client.can_send:
            self.stderr.write(f"Warning: {client} is revoked or may not send: every message will be refused (AR).")
        server = Listener(options["host"], options["port"], client, idle_timeout=options["idle_timeout"])
        host, port = server.server_address[:2]
        self.stdout.write(f"MLLP listener for {client} on {host}:{port} (Ctrl-C to stop)")

        def stop(*_):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            self.stdout.write("MLLP listener stopped")
