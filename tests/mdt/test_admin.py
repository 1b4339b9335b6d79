"""The MDT discussion in the Django admin: listed with those entered in error, never deleted, constant queries."""

import pytest
from django.urls import reverse

from mdt.models import MDTDiscussion

from .factories import MDTDiscussionFactory

URL = reverse("admin:mdt_mdtdiscussion_changelist")


@pytest.mark.parametrize("rows", [1, 3])
def test_changelist_query_count_is_constant(rows, client, admin_user, django_assert_num_queries):
    MDTDiscussionFactory.create_batch(rows)
    client.force_login(admin_user)
    # session, user, filtered COUNT, total COUNT, the page of rows (with patient and who recorded),
    # the meeting-date hierarchy (MIN/MAX, then the dates).
    with django_assert_num_queries(7):
        response = client.get(URL)
    assert response.context["cl"].result_count == rows


def test_a_discussion_cannot_be_deleted_in_the_admin(client, admin_user):
    discussion = MDTDiscussionFactory()
    client.force_login(admin_user)
    response = client.post(reverse("admin:mdt_mdtdiscussion_delete", args=[discussion.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert MDTDiscussion.objects.filter(pk=discussion.pk).exists()
