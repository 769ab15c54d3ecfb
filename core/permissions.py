"""Who may do what in the API: the user's role, as model permissions.

Kept apart from the views: DRF imports permission classes while it is still
loading, so this module may not import rest_framework.views.
"""

from rest_framework.permissions import DjangoModelPermissions


class RolePermissions(DjangoModelPermissions):
    """Model permissions from the user's role (group), reads included.

    A view can name the permission an extra action needs in
    `action_permissions`, e.g. {"transition": ["batches.change_batch"]}.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        needed = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if needed is None:
            return super().has_permission(request, view)
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(needed))
