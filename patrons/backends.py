"""The login backend: one query for the user with their patron and staff records, and the
permissions kept in the cache, so that a page pays no fixed cost for who is asking.

Django's ModelBackend reads the user on every request and the user's and groups' permissions
(two joins) on the first `has_perm` of each request. Here the user comes with `patron` and
`staff_member.branch` in the same query, and the permission set is cached under a version that
any change to users, groups or permissions moves on (`patrons.apps` connects the signals), so a
change of role takes effect on the next request. Only with a cache every process shares
(settings.CACHE_PERMISSIONS); one process's memory cache would miss another's changes.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from patrons.permcache import VERSION_KEY, version

TIMEOUT = 300  # seconds; the version makes changes visible at once, the timeout bounds the memory


class DeskBackend(ModelBackend):
    def get_user(self, user_id):
        user = (
            get_user_model()
            ._default_manager.select_related("patron", "staff_member__branch")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not settings.CACHE_PERMISSIONS or obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            # One round trip: the current version and the set stored with the version it was read at.
            key = f"auth:perms:{user_obj.pk}"
            found = cache.get_many([VERSION_KEY, key])
            current = found.get(VERSION_KEY) or version()
            stored_version, perms = found.get(key) or (None, None)
            if stored_version != current:
                perms = super().get_all_permissions(user_obj)
                cache.set(key, (current, perms), TIMEOUT)
            user_obj._perm_cache = set(perms)
        return user_obj._perm_cache
