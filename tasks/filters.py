"""The filters of the task worklists: who the task is assigned to (not the patient's named nurse), when due."""

from followup import choices as c
from followup.filters import ANYONE, ScopeTab, WorklistFilter, date_range


class TaskFilter(WorklistFilter):
    """ "Nurse" here is whom the task is assigned to: the tabs read "My tasks" (assigned to me) and
    "Whole team"; a task list opens on the whole team's tasks."""

    default_to_my_caseload = False

    due = date_range("due_on", "Due between")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["nurse"].label = "Assigned to"

    def one_caseload(self) -> bool:
        return False  # the "Named nurse" column is the patient's, not the assignee's: keep it

    def filter_nurse(self, queryset, name, value):
        if value == ANYONE:
            return queryset
        return queryset.filter(assigned_to_id=value)

    def _scope_words(self, cleaned: dict) -> str:
        nurse = self.data.get("nurse")
        if nurse and nurse != ANYONE:
            name = dict(self.filters["nurse"].extra["choices"]).get(nurse)
            return f"tasks assigned to {name}" if name else "one nurse's tasks"
        return super()._scope_words(cleaned)

    def _tabs(self, link) -> list[ScopeTab]:
        user = self.request.user
        if user.role == c.Role.NURSE:
            mine = self.data.get("nurse") == str(user.pk)
            return [ScopeTab("Whole team", link(), not mine), ScopeTab("Assigned to me", link(nurse=user.pk), mine)]
        return super()._tabs(link)


class MyTaskFilter(TaskFilter):
    """ "My tasks" holds the user's own tasks only (worklists.Worklist.only_mine): no tabs."""

    def _tabs(self, link) -> list[ScopeTab]:
        return []
