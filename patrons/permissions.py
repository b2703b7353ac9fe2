"""Who may use the desk pages: circulation staff and administrators (the `ill.work_desk` permission)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def desk_required(view):
    """Logged in and allowed to work the ILL desk; others get a 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm("ill.work_desk"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def staff_branch(user):
    """The branch a staff member works at, or None (then the desk starts with every branch)."""
    member = getattr(user, "staff_member", None) if hasattr(user, "staff_member") else None
    return member.branch if member is not None else None
