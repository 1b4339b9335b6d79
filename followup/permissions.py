"""Who may do what. Team scope (who may *see*) is TeamScopedQuerySet.visible_to."""

from . import choices as c


def can_act(user) -> bool:
    """Record and change clinical data: nurses and admins; clinicians are read-only."""
    return user.is_authenticated and user.is_active and (user.role == c.Role.NURSE or user.is_admin_role)


def can_administer(user) -> bool:
    """Reassign named nurses, hand over caseloads, see every team."""
    return user.is_authenticated and user.is_active and user.is_admin_role
