"""Reading an account's notices: those addressed to the account and to its volunteer.

Notices are personal, so they are read by addressee, never through an admin's reach: a
district admin sees their own inbox, not a station's."""

from django.db.models import Case, IntegerField, Q, QuerySet, Subquery, Value, When

from wenming.people.models import Volunteer

from .models import Notice


def for_account(user) -> Q:
    """The notices addressed to `user` or to the volunteer linked to it.

    The volunteer's id is a scalar subquery, not a join: the database works it out once and
    then reads both inbox indexes (user_id, volunteer_id), so the badge stays one cheap COUNT
    whether or not the account has a volunteer."""
    own_volunteer = Subquery(Volunteer.objects.filter(user_id=user.pk).order_by().values("pk")[:1])
    return Q(user_id=user.pk) | Q(volunteer_id=own_volunteer)


def inbox(user) -> QuerySet[Notice]:
    """Unread first, then newest first."""
    return (
        Notice.objects.filter(for_account(user))
        .annotate(read=Case(When(read_at=None, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("read", "-created_at", "-id")
    )


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notice.objects.filter(for_account(user), read_at=None).count()
