"""What the console's home page shows: a few counts for the user's reach."""

from wenming.core.scoping import scoped

from .models import OrgNode


def home_context(user) -> dict:
    from wenming.org.models import Site
    from wenming.people.models import Team, Volunteer

    nodes = scoped(OrgNode.objects.all(), user)
    return {
        "counts": {
            "institutes": nodes.filter(kind=OrgNode.Kind.INSTITUTE).count(),
            "stations": nodes.filter(kind=OrgNode.Kind.STATION).count(),
            "volunteers": scoped(Volunteer.objects.all(), user).count(),
            "teams": scoped(Team.objects.all(), user).count(),
            "sites": scoped(Site.objects.all(), user).count(),
        },
        "scopes": list(user.scopes.all()) if user.is_authenticated else [],
    }
