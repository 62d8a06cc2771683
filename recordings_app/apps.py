from django.apps import AppConfig
from django.db.models.signals import post_migrate

# Who may do what. Anyone logged in browses and listens with their own credentials or
# those shared with them; the groups make the roles explicit for admins handing out
# accounts. Admin stores credentials once and shares them with groups and users.
GROUPS = {
    "Support": [],
    "Supervisor": [
        "delete_recording",
        "view_costs",
        "view_activity",
        "download_many",
        "share_recording",
        "manage_retention",
    ],
    "Admin": ["manage_shared_credentials", "manage_retention"],
}


def ensure_groups(sender, using="default", **kwargs):
    """Create the Support, Supervisor and Admin groups on every migrate (after permissions
    exist, which a data migration cannot rely on)."""
    from django.contrib.auth.models import Group, Permission

    for name, codenames in GROUPS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        permissions = Permission.objects.using(using).filter(
            content_type__app_label="recordings_app", codename__in=codenames
        )
        group.permissions.add(*permissions)


class RecordingsConfig(AppConfig):
    name = "recordings_app"
    verbose_name = "Recordings"

    def ready(self):
        from recordings_app import checks  # noqa: F401 - registers the system checks

        post_migrate.connect(ensure_groups, sender=self)
