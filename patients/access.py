"""What each user may do, kept in the cache between requests.

Every page checks the user's permissions, which Django's ModelBackend reads
in two joined queries per request. Here the set is kept in Django's cache
under the user and the stamp of the latest change to roles
(``PermissionsChange``), which is read with the user in the query every
request already makes: a change of role or of a role's permissions applies
on the very next request, on every app server, whatever the cache backend.
Changes made through Django's admin or the many-to-many managers
(``groups.add()``, ``.remove()``, ``.set()``, ``.clear()``) and deleting a
group or a permission are recorded by the signals below; a change that
bypasses them (rows of the link tables created or deleted directly, raw
SQL) must call ``PermissionsChange.record()``.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connections
from django.db.models import Subquery
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.dispatch import receiver

from .models import PermissionsChange

# Sets are rebuilt at each change anyway; the timeout only frees the memory
# of users who have gone home.
CACHE_SECONDS = 12 * 3600
NOT_READ = object()
User = get_user_model()


def permissions_key(user, stamp) -> str:
    return f"permissions:{user.pk}:{int(user.is_superuser)}:{stamp}"


class CachedPermissionsBackend(ModelBackend):
    """ModelBackend whose users' permission sets are kept in the cache."""

    def get_user(self, user_id):
        users = User._default_manager.annotate(
            permissions_stamp=Subquery(
                PermissionsChange.objects.filter(pk=PermissionsChange.ROW).values("stamp")
            )
        )
        try:
            user = users.get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        stamp = getattr(user_obj, "permissions_stamp", NOT_READ)
        # A user read another way (at sign-in) is checked as ModelBackend does.
        if (
            stamp is not NOT_READ
            and obj is None
            and user_obj.is_active
            and not hasattr(user_obj, "_perm_cache")
        ):
            key = permissions_key(user_obj, stamp)
            kept = cache.get(key)
            if kept is None:
                kept = super().get_all_permissions(user_obj)
                cache.set(key, kept, CACHE_SECONDS)
            user_obj._perm_cache = kept
        return super().get_all_permissions(user_obj, obj)


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
@receiver(m2m_changed, sender=Group.permissions.through)
def roles_changed(sender, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        PermissionsChange.record()


@receiver(post_save, sender=Group)
@receiver(post_delete, sender=Group)
@receiver(post_save, sender=Permission)
@receiver(post_delete, sender=Permission)
def role_or_permission_changed(sender, **kwargs) -> None:
    # Deleting a group or a permission removes its links without m2m signals.
    PermissionsChange.record()


@receiver(post_migrate)
def roles_migrated(sender, app_config, using, **kwargs) -> None:
    # Data migrations change roles through historical models, which send
    # none of the signals above. (Not after migrating back past the table.)
    if app_config.label != "patients":
        return  # sent once per app; the table list is read for this one only
    if PermissionsChange._meta.db_table in connections[using].introspection.table_names():
        PermissionsChange.record(using)
