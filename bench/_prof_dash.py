import cProfile, pstats, sys, time, statistics
import _django  # noqa
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from followup.models import User
from pages import sql_time_ms, explain_ms, SKIP_EXPLAIN
from django.db import transaction

username = sys.argv[1] if len(sys.argv) > 1 else "nurse"
user = User.objects.get(username=username)
c = Client(); c.force_login(user)
url = reverse("followup:dashboard")
for _ in range(3): c.get(url, secure=True)
times = []
for _ in range(10):
    t = time.perf_counter(); c.get(url, secure=True); times.append((time.perf_counter() - t) * 1000)
print("server median ms", statistics.median(times))
with CaptureQueriesContext(connection) as cap:
    c.get(url, secure=True)
qs = [q for q in cap.captured_queries if not q["sql"].startswith(SKIP_EXPLAIN)]
print("queries", len(qs), "client-side time sum", sum(float(q["time"]) for q in qs) * 1000)
with transaction.atomic():
    with connection.cursor() as cur:
        for q in qs:
            took = min(explain_ms(cur, q["sql"]) for _ in range(3))
            print(f"{took:7.2f} {q['sql'][:220]}")
    transaction.set_rollback(True)
pr = cProfile.Profile(); pr.enable()
for _ in range(10): c.get(url, secure=True)
pr.disable()
st = pstats.Stats(pr); st.sort_stats("cumulative").print_stats(45)
