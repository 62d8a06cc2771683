import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from recordings_app import crypto
from recordings_app.credential_cache import CachedClient
from recordings_app.signalwire import Parties, SignalWireClient
from recordings_app.signalwire import Recording as UpstreamRecording


class CredentialQuerySet(models.QuerySet):
    def shared_with(self, user):
        """Credentials granted to `user`, by name or through one of their groups (their
        own included, if they granted them to a group they are in)."""
        through_users = Credential.shared_with_users.through.objects.filter(user=user)
        through_groups = Credential.shared_with_groups.through.objects.filter(group__user=user)
        return self.filter(
            Q(pk__in=through_users.values("credential"))
            | Q(pk__in=through_groups.values("credential"))
        )

    def usable_by(self, user):
        """What `user` may make active: their own credentials and those shared with them."""
        return self.filter(Q(user=user) | Q(pk__in=self.model.objects.shared_with(user)))


class Credential(models.Model):
    """One set of SignalWire credentials a user stored. The token is encrypted at rest
    and write-only: pages show `token_hint` (its last four characters) and nothing else.

    Its owner (`user`) may share it with groups and named users (which needs the
    `manage_shared_credentials` permission): they can make it the one they use, never
    see, change or remove it. Everything kept about a credential (its index, cache,
    sync, reports) is kept once for it, whoever uses it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credentials"
    )
    label = models.CharField(max_length=80)
    space = models.CharField(max_length=63, help_text="Space name, e.g. acme")
    project_id = models.UUIDField()
    encrypted_token = models.TextField()
    token_hint = models.CharField(max_length=4)
    # The owner's choice: this is the one the owner uses. Only ever the owner's, so a
    # flag on the row still means one user's choice; someone using a credential shared
    # with them points at it from their Profile instead (Profile.shared_credential).
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    shared_with_groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="shared_credentials"
    )
    shared_with_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_credentials"
    )

    objects = CredentialQuerySet.as_manager()

    class Meta:
        ordering = ["label"]
        permissions = [("manage_shared_credentials", "Can manage shared credentials")]
        constraints = [
            models.UniqueConstraint(fields=["user", "label"], name="unique_label_per_user"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_active=True), name="one_active_credential_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.space})"

    def shared_with_names(self) -> str:
        """Who it is shared with, as "Support, Supervisor; dave, erin" ("" for nobody):
        for its owner's credentials page and the audit trail."""
        groups = ", ".join(sorted(group.name for group in self.shared_with_groups.all()))
        users = ", ".join(sorted(user.get_username() for user in self.shared_with_users.all()))
        return "; ".join(part for part in (groups, users) if part)

    @property
    def masked_token(self) -> str:
        return f"••••{self.token_hint}"

    def set_token(self, api_token: str) -> None:
        self.encrypted_token = crypto.encrypt(api_token)
        self.token_hint = api_token[-4:]

    @property
    def cache_scope(self) -> str:
        """The one prefix of everything cached about this credential (SignalWire's
        answers, waveform peaks, rendered tables) and the salt of its page links: a
        digest of its row, space, project and encrypted token, never the token itself.
        Editing any of them starts afresh."""
        identity = f"{self.pk}:{self.space}:{self.project_id}:{self.encrypted_token}"
        return "cred:" + hashlib.sha256(identity.encode()).hexdigest()[:32]

    def client(self) -> CachedClient:
        """A client for this space that reuses recent answers (see credential_cache):
        what pages use."""
        return CachedClient(self.fresh_client(), self)

    @sensitive_variables("token")
    def fresh_client(self) -> SignalWireClient:
        """A client that always asks SignalWire: for background work such as a sync, and
        for anything that must not see a cached answer."""
        token = crypto.decrypt(self.encrypted_token)
        return SignalWireClient(self.space, str(self.project_id), token)


class Profile(models.Model):
    """What a user chose for themselves. An empty timezone means the browser's own."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    timezone = models.CharField(
        max_length=64,
        blank=True,
        help_text="Leave empty to use your browser's time zone.",
    )
    # A two-letter region (ISO 3166): its numbers are shown in national form and typed
    # numbers without a country code are read as its. Empty: settings.PHONE_REGION.
    phone_region = models.CharField(max_length=2, blank=True)
    # The credential shared with this user that they picked, when they use one that is
    # not their own (their own carry the choice themselves: Credential.is_active). Two
    # users of one shared credential choose independently, and keeping own credentials
    # as they were leaves every existing row, constraint and query unchanged. A pointer
    # is not a grant: recordings_app.access checks the grant again on every request, so
    # a revoked one is never used, and falls back from it.
    shared_credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"profile of {self.user}"


class Recording(models.Model):
    """No table: the recordings live in SignalWire. This only carries the permissions
    that the Support and Supervisor groups hand out."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("delete_recording", "Can delete recordings in SignalWire"),
            ("view_costs", "Can see what recordings cost"),
            ("download_many", "Can download many recordings at once as one archive"),
            ("share_recording", "Can make share links to a recording"),
            ("manage_retention", "Can set a credential's retention policies"),
        ]

    def __str__(self) -> str:
        return "recording permissions"


# ---------------------------------------------------------------------------- the index
# Metadata only, never audio: what search and the spend report read. Filled by
# recordings_app.index (the sync); every query is scoped by `credential`.


class IndexedRecording(models.Model):
    """One recording's metadata as the last sync saw it, for one credential set."""

    # Not `id`: `recording_id` is the only id a reader of this table meets.
    key = models.BigAutoField(primary_key=True)
    # No index of its own: the unique (credential, recording_id) one starts with it.
    credential = models.ForeignKey(
        Credential, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    recording_id = models.CharField(max_length=36)
    created_at = models.DateTimeField()
    # The same instant as whole seconds since 1970: lets SQLite and Postgres group by
    # 15-minute buckets with plain integer division (the costs page turns buckets into
    # days in the user's zone), where TruncDate(tzinfo=...) on SQLite is a Python call
    # per row and too slow for 100,000 rows.
    created_epoch = models.BigIntegerField()
    updated_at = models.DateTimeField(null=True)
    duration_seconds = models.IntegerField(null=True)
    # Six places: upstream prices like 0.0025 fit; the sync rounds anything finer.
    price = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    price_unit = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=32, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    track = models.CharField(max_length=32, blank=True)
    stereo = models.BooleanField(null=True)
    byte_size = models.BigIntegerField(null=True)
    source = models.CharField(max_length=16)
    leg_id = models.CharField(max_length=36, blank=True)
    conference_id = models.CharField(max_length=36, blank=True)
    # Which API lists it: "relay" or "compat" (cXML); a Compatibility recording's own
    # source word (RecordVerb, DialVerb, ...) and its call.
    family = models.CharField(max_length=8, default="relay")
    cxml_source = models.CharField(max_length=32, blank=True)
    call_sid = models.CharField(max_length=36, blank=True)
    # The status word's family (signalwire.status_family: in_progress, done, no_audio,
    # failed, other), stored so filters and reports group the two APIs' words in SQL.
    status_family = models.CharField(max_length=16, default="other")
    # The media file's URL as SignalWire gave it: whether a row has audio to play.
    url = models.TextField(blank=True)
    last_seen = models.DateTimeField()
    # Set by a sync pass that covered this recording's time and did not see it.
    vanished_at = models.DateTimeField(null=True)
    # Who called whom, joined by the sync from voice logs (RELAY) or calls (Compatibility)
    # after the rows are stored (index.join_numbers): the addresses as upstream gave
    # them, the direction, and `numbers_state` (signalwire.NUMBER_STATES: "found", or
    # why not). Database defaults, because the sync's upsert never writes them.
    from_address = models.CharField(max_length=128, blank=True, db_default="")
    to_address = models.CharField(max_length=128, blank=True, db_default="")
    direction = models.CharField(max_length=16, blank=True, db_default="")
    numbers_state = models.CharField(max_length=12, db_default="pending")
    # The E.164 digits of each end, reversed ("00105554141" for +14155550100), "" where
    # it is no phone number: a number search, whole or by its last digits, is then a
    # prefix match that a b-tree index serves (varchar_pattern_ops on Postgres).
    from_rdigits = models.CharField(max_length=20, blank=True, db_default="")
    to_rdigits = models.CharField(max_length=20, blank=True, db_default="")
    # Talk time (recordings_app/talk_time.py), from the audio, by the worker after a sync
    # or on the first open of the page. `talk_state`: talk_time.State ("" not yet, queued,
    # done, failed for good, upstream: SignalWire failed and it is tried again later) with
    # `talk_reason` in words where it is not done. Speaking seconds per channel (mono: left
    # only), the seconds both talk at once (stereo only), the longest silence (nobody
    # talking), the seconds of audio analysed, and the speaking segments per channel for
    # drawing ([[start, end], ...] in seconds, at most talk_time.MAX_SEGMENTS each).
    # Database defaults, because the sync's upsert never writes them.
    talk_state = models.CharField(max_length=8, blank=True, db_default="")
    talk_reason = models.CharField(max_length=300, blank=True, db_default="")
    talk_queued_at = models.DateTimeField(null=True)
    talk_analysed_at = models.DateTimeField(null=True)
    talk_channels = models.SmallIntegerField(null=True)
    talk_duration_seconds = models.FloatField(null=True)
    talk_left_seconds = models.FloatField(null=True)
    talk_right_seconds = models.FloatField(null=True)
    talk_overlap_seconds = models.FloatField(null=True)
    talk_silence_seconds = models.FloatField(null=True)
    talk_segments = models.JSONField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "recording_id"], name="one_index_row_per_recording"
            )
        ]
        indexes = [
            # Covers every column the costs page groups and sums, so its queries read
            # this index alone (no table lookups): 30 days of 100,000 rows in ~10 ms.
            models.Index(
                fields=[
                    "credential",
                    "created_at",
                    "vanished_at",
                    "created_epoch",
                    "price_unit",
                    "price",
                    "duration_seconds",
                    "status_family",
                    "track",
                    "source",
                    "stereo",
                ],
                name="index_for_reports",
            ),
            # The spend report's most expensive recordings of a period: read in price
            # order until twenty fall in it, not a sort of the whole period.
            models.Index(
                fields=["credential", "-price", "-created_at"],
                condition=models.Q(vanished_at=None, price__isnull=False),
                name="index_by_price",
            ),
            # The talk-time filters: the analysed recordings only, newest first (few next
            # to the index: a scan of the whole account found none of them quickly).
            models.Index(
                fields=["credential", "-created_at"],
                condition=models.Q(talk_silence_seconds__isnull=False),
                name="analysed_for_talk_time",
            ),
            # Number search (from or to, whole or by the last digits), id search by prefix,
            # the sync's join and "open by ID" (leg id, call sid), without a scan. The
            # operator classes let Postgres serve LIKE 'x%' in any collation; other
            # databases ignore them.
            *(
                models.Index(
                    fields=["credential", column],
                    name=f"index_by_{column}",
                    opclasses=["int8_ops", "varchar_pattern_ops"],
                )
                for column in (
                    "from_rdigits",
                    "to_rdigits",
                    "recording_id",
                    "leg_id",
                    "call_sid",
                    "conference_id",
                )
            ),
        ]

    def __str__(self) -> str:
        return self.recording_id

    @property
    def parties(self) -> Parties:
        if self.numbers_state != "found":
            return Parties.unknown(self.numbers_state)
        return Parties(
            from_address=self.from_address or None,
            to_address=self.to_address or None,
            direction=self.direction or None,
            id=(self.call_sid if self.family == "compat" else self.leg_id) or None,
        )

    def as_recording(self) -> UpstreamRecording:
        """This row as the client's own `Recording`, so a table shows indexed and live
        recordings with the same markup."""
        return UpstreamRecording(
            id=self.recording_id,
            created_at=self.created_at,
            updated_at=self.updated_at,
            duration_seconds=self.duration_seconds,
            price=self.price,
            price_unit=self.price_unit or None,
            status=self.status or None,
            error_code=self.error_code or None,
            url=self.url or None,
            stereo=self.stereo,
            track=self.track or None,
            byte_size=self.byte_size,
            source=self.source,
            leg_id=self.leg_id or None,
            conference_id=self.conference_id or None,
            family=self.family,
            cxml_source=self.cxml_source or None,
            call_sid=self.call_sid or None,
            parties=self.parties,
            # `status_family` is a property of Recording, derived from the same status
            # and error code as the column.
        )


class DayFigures(models.Model):
    """The index's live rows of one UTC day and one group of the spend report, summed:
    kept exact by recordings_app.rollups, which says why and how."""

    credential = models.ForeignKey(
        Credential, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.IntegerField()  # days since 1970-01-01, UTC
    status_family = models.CharField(max_length=16)
    track = models.CharField(max_length=32)
    source = models.CharField(max_length=16)
    stereo = models.BooleanField(null=True)
    price_unit = models.CharField(max_length=8)
    charged = models.BooleanField()  # a price over zero
    count = models.IntegerField()
    seconds = models.BigIntegerField()
    price = models.DecimalField(max_digits=24, decimal_places=6, null=True)

    class Meta:
        indexes = [models.Index(fields=["credential", "day"], name="day_figures_by_day")]

    def __str__(self) -> str:
        return f"day {self.day} of credential {self.credential_id}"


class QuarterHourFigures(models.Model):
    """The index's live rows of one quarter hour and one currency, summed (see
    recordings_app.rollups)."""

    credential = models.ForeignKey(
        Credential, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    bucket = models.BigIntegerField()  # created_epoch // 900
    price_unit = models.CharField(max_length=8)
    count = models.IntegerField()
    seconds = models.BigIntegerField()
    price = models.DecimalField(max_digits=24, decimal_places=6, null=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["credential", "bucket", "price_unit", "count", "seconds", "price"],
                name="quarter_figures_by_time",
            )
        ]

    def __str__(self) -> str:
        return f"quarter hour {self.bucket} of credential {self.credential_id}"


class IndexSync(models.Model):
    """The sync's state for one credential, in the database so any process (a worker, a
    foreground command, two app servers) sees it and a killed worker can resume.

    A pass reads the two API families one after the other (RELAY, then Compatibility)
    under one lease, so the place to resume is one cursor plus the `family` it belongs
    to, and one progress count covers the pass. A cursor per family would only pay if
    the two lists were read at once, which gains little: a sync waits on upstream, and
    the one page it fetches ahead already overlaps that wait with its writes. What must
    outlive a pass is kept per family (`*_complete_through`, the horizons' base): a
    family refused for a while must not inherit the other's newer horizon and skip what
    it missed."""

    class State(models.TextChoices):
        IDLE = "idle", "idle"
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        FAILED = "failed", "failed"

    credential = models.OneToOneField(Credential, on_delete=models.CASCADE, related_name="sync")
    state = models.CharField(max_length=8, choices=State, default=State.IDLE)
    # The pass in progress (a cursor set, or past its first family) or the last one.
    # `full_pass`: every page of every family; otherwise each family re-reads back to
    # its `horizon`. The cursor is upstream's next link (a query string) in `family`'s
    # list; "" at the start of a family's list and when no pass is half done.
    full_pass = models.BooleanField(default=True)
    family = models.CharField(max_length=8, default="relay")
    cursor = models.TextField(blank=True)
    pass_started_at = models.DateTimeField(null=True)
    # Of the family being read: its newest recording so far, the oldest of the last
    # page stored (to check the order page after page), and where an incremental read
    # may stop (None: read to the end).
    pass_newest = models.DateTimeField(null=True)
    page_oldest = models.DateTimeField(null=True)
    horizon = models.DateTimeField(null=True)
    pages_read = models.IntegerField(default=0)
    recordings_seen = models.IntegerField(default=0)
    expected_total = models.IntegerField(null=True)
    # Who holds the pass, and when it last showed signs of life: a lease, so two
    # workers never run one credential's pass and a dead one's pass can be taken over.
    lease = models.CharField(max_length=32, blank=True)
    heartbeat = models.DateTimeField(null=True)
    queued_at = models.DateTimeField(null=True)
    # Each family's index is complete up to here (its newest recording as of the last
    # pass that read it to the end or to its horizon).
    relay_complete_through = models.DateTimeField(null=True)
    compat_complete_through = models.DateTimeField(null=True)
    # SignalWire: the RELAY list's order is undocumented. False once a pass saw this
    # space's list other than newest first: its incremental passes then read it all.
    relay_newest_first = models.BooleanField(default=True)
    indexed_as_of = models.DateTimeField(null=True)
    # When the last full pass started: the worker's scheduler asks for one a day.
    last_full_at = models.DateTimeField(null=True)
    # {family: what the last pass could not read, in words}: a refused family is
    # skipped, not a failed sync.
    unavailable = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"sync of {self.credential_id}: {self.state}"


class AppendOnly(models.QuerySet):
    """A queryset that adds rows and reads them, and refuses to change or remove them in
    bulk, as it refuses one by one (AuditEvent.save/delete). A guard against the
    application's own mistakes, not against someone with the database's password.

    Django's own cascade on a deleted user (SET_NULL on `user`) goes through the model's
    `_base_manager`, a plain one, so deleting a user still works and keeps the rows."""

    def update(self, **kwargs):
        raise PermissionError("Audit events are never changed.")

    def delete(self):
        raise PermissionError("Audit events are never deleted.")

    # Django's own path for deleting rows without loading them: refused too.
    def _raw_delete(self, using):
        raise PermissionError("Audit events are never deleted.")


class AuditEvent(models.Model):
    """Who did what to which recording, when, from where, with which credentials (by
    label: never the token). Written by `recordings_app.audit.record` only; rows are
    never changed or deleted by the application or the admin."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        PLAY = "play", "Listened"
        PLAY_FAILED = "play_failed", "Listen failed"
        DOWNLOAD = "download", "Downloaded"
        # A download asked for by another site's page (a link, an <img>): the browser
        # fetched it, but nothing shows the user chose to.
        DOWNLOAD_CROSS_SITE = "download_cross_site", "Downloaded from another site's link"
        DOWNLOAD_FAILED = "download_failed", "Download failed"
        DELETE = "delete", "Deleted"
        DELETE_FAILED = "delete_failed", "Delete failed"
        DELETE_DENIED = "delete_denied", "Delete refused (no permission)"
        CREDENTIAL_ADD = "credential_add", "Added credentials"
        CREDENTIAL_ACTIVATE = "credential_activate", "Switched credentials"
        CREDENTIAL_REMOVE = "credential_remove", "Removed credentials"
        CREDENTIAL_SHARE = "credential_share", "Changed who credentials are shared with"
        NOTE_ADD = "note_add", "Added a note"
        NOTE_EDIT = "note_edit", "Edited a note"
        TAG_ADD = "tag_add", "Tagged"
        TAG_REMOVE = "tag_remove", "Removed a tag"
        SHARE_CREATE = "share_create", "Made a share link"
        SHARE_REVOKE = "share_revoke", "Revoked a share link"
        SHARE_OPEN = "share_open", "Opened a share link"
        SHARE_LISTEN = "share_listen", "Listened through a share link"
        SHARE_DOWNLOAD = "share_download", "Downloaded through a share link"
        # An expired, revoked or no longer usable link, or a download it does not allow.
        SHARE_REFUSED = "share_refused", "Share link refused"
        RETENTION_CHANGE = "retention_change", "Changed a retention policy"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # The name is kept as text too, so the trail outlives a deleted account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=32, choices=Action.choices)
    recording_id = models.CharField(max_length=36, blank=True, db_index=True)
    credential_label = models.CharField(max_length=80, blank=True)
    space = models.CharField(max_length=63, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    objects = AppendOnly.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        default_permissions = ()
        permissions = [("view_activity", "Can see the activity log of every user")]
        indexes = [models.Index(fields=["user", "recording_id", "action", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.recording_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are never deleted.")


# ----------------------------------------------------------------- notes, tags, shares
# Notes and tags belong to a credential, not to a user: everyone who uses the credential
# (its owner and those it is shared with) sees the same ones, as they see the same
# recordings. Rows name the recording by id only: the recording lives in SignalWire.


class RecordingNote(models.Model):
    """A note on a recording, optionally at a moment in its audio (`at_seconds`).
    Editable by its author for `notes.EDIT_WINDOW` after it was written, then never."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="+")
    recording_id = models.CharField(max_length=36)
    # The name is kept as text too, so a note outlives its author's account.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    text = models.TextField(max_length=2000)
    at_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["credential", "recording_id"], name="notes_of_recording")]

    def __str__(self) -> str:
        return f"note by {self.author_name} on {self.recording_id}"


class RecordingTag(models.Model):
    """A tag (a short lower-case word) on a recording, once per credential."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="+")
    recording_id = models.CharField(max_length=36)
    name = models.CharField(max_length=32)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "recording_id", "name"], name="one_tag_per_recording"
            )
        ]
        # The tag filter: which recordings of a credential carry a tag.
        indexes = [models.Index(fields=["credential", "name"], name="recordings_by_tag")]

    def __str__(self) -> str:
        return self.name


class ShareLink(models.Model):
    """A link to one recording (or a moment in it) that a user with `share_recording`
    made, played through their credential. Only a SHA-256 of the token is kept: the
    link itself is shown once, when it is made."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="+")
    recording_id = models.CharField(max_length=36)
    at_seconds = models.PositiveIntegerField(null=True, blank=True)
    allow_download = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"share of {self.recording_id} by {self.user_id}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


# ------------------------------------------------------------- bulk delete and retention
# See recordings_app/deletions.py: a job deletes a set of recordings frozen when it was
# confirmed (one DeletionItem per recording), so it never deletes more than was shown,
# and a worker that stops midway leaves every item's state for the next one to go on.


class RetentionPolicy(models.Model):
    """ "Delete this credential's recordings older than `days` days" (optionally only
    those of one status family, track or source), run once a day by the worker."""

    MIN_DAYS = 1  # the floor: a policy never deletes a recording younger than a day

    credential = models.ForeignKey(
        Credential, on_delete=models.CASCADE, related_name="retention_policies"
    )
    days = models.PositiveIntegerField()
    status_family = models.CharField(max_length=16, blank=True)
    track = models.CharField(max_length=32, blank=True)
    source = models.CharField(max_length=16, blank=True)
    paused = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.CharField(max_length=150, blank=True)
    # When the scheduler last started a run (the guard two schedulers flip: one run).
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["credential", "days", "pk"]
        default_permissions = ()
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1), name="retention_days_at_least_1")
        ]

    def __str__(self) -> str:
        return f"retention policy {self.pk} of {self.credential_id}"


class DeletionJob(models.Model):
    """A set of recordings to delete, frozen at confirmation, worked through by the
    worker with a lease and a heartbeat (like the sync), resumable after a stop."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Deleting"
        WAITING = "waiting", "Paused: SignalWire asked us to slow down"
        DONE = "done", "Finished"

    class Kind(models.TextChoices):
        BULK = "bulk", "Bulk delete"
        RETENTION = "retention", "Retention policy"

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind, default=Kind.BULK)
    policy = models.ForeignKey(
        RetentionPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # Who asked (a retention run: nobody; `username` names the policy instead), and from
    # where: every audit row of the job carries them.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    # What was matched, in words ("Status: Failed · Track: inbound"), for the pages.
    description = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=8, choices=State, default=State.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    # WAITING: not before this (SignalWire's Retry-After, or a transient fault's backoff).
    resume_at = models.DateTimeField(null=True, blank=True)
    total = models.IntegerField(default=0)
    deleted = models.IntegerField(default=0)
    gone = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        default_permissions = ()
        indexes = [models.Index(fields=["state", "heartbeat"], name="deletionjob_by_state")]

    def __str__(self) -> str:
        return f"deletion job {self.pk}: {self.state}"

    @property
    def processed(self) -> int:
        return self.deleted + self.gone + self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.processed / self.total)

    @property
    def finished(self) -> bool:
        return self.state == self.State.DONE


class DeletionItem(models.Model):
    """One recording of a job, and what became of it."""

    class State(models.TextChoices):
        PENDING = "pending", "Not yet"
        DELETED = "deleted", "Deleted"
        GONE = "gone", "Already gone"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(DeletionJob, on_delete=models.CASCADE, related_name="items")
    recording_id = models.CharField(max_length=36)
    family = models.CharField(max_length=8)
    state = models.CharField(max_length=8, choices=State, default=State.PENDING)
    attempts = models.IntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["job", "state", "id"], name="deletionitem_by_state")]

    def __str__(self) -> str:
        return f"{self.recording_id}: {self.state}"
