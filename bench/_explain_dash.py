import sys
import _django  # noqa
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from followup.models import User
user = User.objects.get(username=sys.argv[1])
which = [int(x) for x in sys.argv[2].split(",")]
c = Client(); c.force_login(user)
c.get(reverse("followup:dashboard"), secure=True)
with CaptureQueriesContext(connection) as cap:
    c.get(reverse("followup:dashboard"), secure=True)
qs = [q for q in cap.captured_queries if not q["sql"].startswith(("SAVEPOINT","RELEASE","SET "))]
with connection.cursor() as cur:
    for i in which:
        print("=====", i, qs[i]["sql"])
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + qs[i]["sql"])
        print("\n".join(r[0] for r in cur.fetchall()))
