from django.conf import settings


def desk(request):
    """What every page's header needs: the user's role and the library's name."""
    user = getattr(request, "user", None)
    is_staff_desk = bool(user and user.is_authenticated and user.has_perm("ill.work_desk"))
    return {
        "is_desk_staff": is_staff_desk,
        "library_name": settings.LIBRARY_NAME,
    }
