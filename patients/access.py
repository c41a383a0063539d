"""What each user may do, kept in the cache between requests.

Every page checks the user's permissions, which Django's ModelBackend reads
in two joined queries per request. Here the set is kept in Django's cache
under the user and the count of permission changes so far
(``PermissionsChange``), which is read with the user in the query every
request already makes: a change of role or of a role's permissions applies
on the very next request, on every app server, whatever the cache backend.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models import Subquery
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .models import PermissionsChange

# Sets are rebuilt at each change anyway; the timeout only frees the memory
# of users who have gone home.
CACHE_SECONDS = 12 * 3600
NOT_READ = object()


def permissions_key(user, generation) -> str:
    return f"permissions:{user.pk}:{int(user.is_superuser)}:{generation}"


class CachedPermissionsBackend(ModelBackend):
    """ModelBackend whose users' permission sets are kept in the cache."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.annotate(
            permissions_generation=Subquery(PermissionsChange.objects.values("generation")[:1])
        )
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        generation = getattr(user_obj, "permissions_generation", NOT_READ)
        # A user read another way (at sign-in) is checked as ModelBackend does.
        if (
            generation is not NOT_READ
            and obj is None
            and user_obj.is_active
            and not hasattr(user_obj, "_perm_cache")
        ):
            key = permissions_key(user_obj, generation)
            kept = cache.get(key)
            if kept is None:
                kept = super().get_all_permissions(user_obj)
                cache.set(key, kept, CACHE_SECONDS)
            user_obj._perm_cache = kept
        return super().get_all_permissions(user_obj, obj)


User = get_user_model()


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
@receiver(m2m_changed, sender=Group.permissions.through)
def roles_changed(sender, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        PermissionsChange.count()


@receiver(post_save, sender=Group)
@receiver(post_delete, sender=Group)
@receiver(post_save, sender=Permission)
@receiver(post_delete, sender=Permission)
def role_or_permission_changed(sender, **kwargs) -> None:
    # Deleting a group or a permission removes its links without m2m signals.
    PermissionsChange.count()
