"""Company log-in: OpenID Connect through mozilla-django-oidc, switched on by OIDC_ISSUER.

The flow (authorization code with PKCE) and the token exchange are mozilla-django-oidc's;
this module adds what it leaves to each project:

- Discovery. The provider's endpoints come from OIDC_ISSUER's
  /.well-known/openid-configuration, read on the first log-in (not at start-up: a
  provider that is down must not keep the dashboard, or `manage.py`, from starting) and
  kept for DISCOVERY_SECONDS. The document must name the configured issuer.
- The ID token is checked in full: signature (RS256, the provider's JWKS), issuer,
  audience (our client id, and `azp` when there are several), expiry and issue time
  with CLOCK_LEEWAY, nonce. mozilla-django-oidc checks only the signature and nonce.
- Accounts. The username is the OIDC_USERNAME_CLAIM claim (preferred_username unless
  set). The first log-in creates the user, without a password. A user of that name who
  has a password is a local account: it is not taken over (an administrator hands it
  to the company log-in by switching its password-based authentication off in the
  admin). Name and email follow the provider at every log-in.
- Groups, when OIDC_GROUPS_CLAIM is set: at every log-in the user's groups become
  exactly the dashboard groups (Support, Supervisor, ...) that the claim names; names
  no group here has are ignored, and a group the claim no longer names is taken away.
  A token without the claim leaves the user in no group. The provider is the one place
  where membership is decided; groups set in the admin last until the next log-in.
- Every refusal is a LoginRefused with a sentence for the person; the log-in views show
  it. Tokens are never logged, nor put in a message.
"""

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import SuspiciousOperation, ValidationError
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

logger = logging.getLogger(__name__)

DISCOVERY_SECONDS = 3600
# Clocks of the provider and of this server may differ by this many seconds.
CLOCK_LEEWAY = 60
# What the session remembers of a company log-in, for the provider's log-out.
SESSION_ID_TOKEN = "oidc_id_token"  # noqa: S105 - a session key, not a secret


class LoginRefused(Exception):
    """A company log-in that did not go through; str() is the sentence to show."""


@dataclass(frozen=True)
class ProviderEndpoints:
    issuer: str
    authorization: str
    token: str
    userinfo: str
    jwks: str
    end_session: str  # "" when the provider offers no log-out


_discovered: dict[str, tuple[float, ProviderEndpoints]] = {}


def is_enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME


def endpoints() -> ProviderEndpoints:
    """The provider's endpoints, from its discovery document (GET
    {OIDC_ISSUER}/.well-known/openid-configuration), kept for DISCOVERY_SECONDS."""
    issuer = settings.OIDC_ISSUER.rstrip("/")
    known = _discovered.get(issuer)
    if known and time.monotonic() - known[0] < DISCOVERY_SECONDS:
        return known[1]
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
        found = ProviderEndpoints(
            issuer=document["issuer"],
            authorization=document["authorization_endpoint"],
            token=document["token_endpoint"],
            userinfo=document["userinfo_endpoint"],
            jwks=document["jwks_uri"],
            end_session=document.get("end_session_endpoint", ""),
        )
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        logger.warning("OIDC discovery at %s failed: %s", url, type(error).__name__)
        raise LoginRefused(
            f"{provider_name()} did not answer as expected. Please try again in a minute."
        ) from None
    # OpenID Connect Discovery 1.0, 4.3: the document must be the configured issuer's.
    if found.issuer.rstrip("/") != issuer:
        logger.warning("OIDC discovery at %s names another issuer: %s", url, found.issuer)
        raise LoginRefused(
            f"{provider_name()} is not set up as this dashboard expects (its issuer differs)."
            " Please tell your administrator."
        )
    _discovered[issuer] = (time.monotonic(), found)
    return found


def provider_logout_url(request, after: str) -> str:
    """Where to send someone who logs out after a company log-in, to end their session at
    the provider too (OIDC_LOGOUT_AT_PROVIDER and an end_session_endpoint), then come back
    to `after` (absolute); "" to stay here. Call it before the Django session ends."""
    id_token = request.session.get(SESSION_ID_TOKEN)
    if not (is_enabled() and settings.OIDC_LOGOUT_AT_PROVIDER and id_token):
        return ""
    try:
        end_session = endpoints().end_session
    except LoginRefused:
        return ""
    if not end_session:
        return ""
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": after,
        }
    )
    return f"{end_session}?{query}"


class CompanyAccounts(OIDCAuthenticationBackend):
    """The authentication backend for company log-ins (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        # mozilla-django-oidc reads the endpoints from settings here; they come from
        # discovery instead, at the first log-in (this backend is also made for every
        # request of a logged-in user, which must not wait on the provider).
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = "RS256"
        self.OIDC_RP_IDP_SIGN_KEY = None
        from django.contrib.auth import get_user_model

        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # Called for password log-ins too: only the provider's callback has code and state.
        if request is None or not is_enabled() or "code" not in request.GET:
            return None
        found = endpoints()
        self.OIDC_OP_TOKEN_ENDPOINT = found.token
        self.OIDC_OP_USER_ENDPOINT = found.userinfo
        self.OIDC_OP_JWKS_ENDPOINT = found.jwks
        self.issuer = found.issuer
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as error:
            # The message of mozilla-django-oidc's token error holds the provider's answer:
            # log only its kind and status.
            status = getattr(getattr(error, "response", None), "status_code", "")
            logger.warning(
                "OIDC token or userinfo request failed: %s %s", type(error).__name__, status
            )
            raise LoginRefused(
                f"{provider_name()} could not complete the log-in. Please try again."
            ) from None

    def verify_token(self, token, **kwargs):
        """The ID token's signature, issuer, audience, expiry and nonce."""
        try:
            key = self.retrieve_matching_jwk(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.issuer,
                leeway=CLOCK_LEEWAY,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.InvalidAudienceError:
            logger.warning("OIDC ID token refused: meant for another audience")
            raise LoginRefused(
                f"{provider_name()} sent a sign-in meant for another application, so it was "
                "refused. Please tell your administrator (the client id may not match)."
            ) from None
        except jwt.ExpiredSignatureError:
            logger.warning("OIDC ID token refused: expired")
            raise LoginRefused(
                f"{provider_name()} sent a sign-in that had already expired, so it was "
                "refused. Please try again; if it keeps happening, a server clock is off."
            ) from None
        except (jwt.PyJWTError, SuspiciousOperation, requests.RequestException) as error:
            logger.warning("OIDC ID token refused: %s", type(error).__name__)
            raise LoginRefused(
                f"The sign-in from {provider_name()} could not be verified, so it was refused."
            ) from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise LoginRefused(
                f"{provider_name()} sent a sign-in meant for another application, so it was "
                "refused. Please tell your administrator (the client id may not match)."
            )
        if claims.get("nonce") != kwargs.get("nonce"):
            logger.warning("OIDC ID token refused: nonce differs")
            raise LoginRefused(
                f"The sign-in from {provider_name()} could not be verified, so it was refused."
            )
        self.id_token_claims = claims
        return claims

    def store_tokens(self, access_token, id_token):
        # Only the ID token, as the hint the provider's log-out asks for. It stays in the
        # session (server side); the access token is not kept at all.
        self.request.session[SESSION_ID_TOKEN] = id_token

    def get_userinfo(self, access_token, id_token, payload):
        # The userinfo answer, on top of the verified ID token's claims; `sub` must agree
        # (OpenID Connect Core 5.3.2).
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload["sub"]:
            raise LoginRefused(
                f"The sign-in from {provider_name()} could not be verified, so it was refused."
            )
        return {**payload, **userinfo}

    def get_username(self, claims):
        username = claims.get(settings.OIDC_USERNAME_CLAIM)
        if not isinstance(username, str) or not username:
            raise LoginRefused(
                f"{provider_name()} did not say who you are (no {settings.OIDC_USERNAME_CLAIM}"
                " claim). Please tell your administrator."
            )
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            raise LoginRefused(
                f"Your {provider_name()} name cannot be a user name here. Please tell your"
                " administrator."
            ) from None
        return username[:150]

    def verify_claims(self, claims):
        self.get_username(claims)  # refuses a log-in with no usable name
        return True

    def filter_users_by_claims(self, claims):
        users = self.UserModel.objects.filter(username=self.get_username(claims))
        for user in users:
            if user.has_usable_password():
                raise LoginRefused(
                    f"There is already an account named {user.username} here that logs in "
                    f"with a password, so {provider_name()} cannot use it. Please ask an "
                    "administrator to hand it over."
                )
        return users

    def create_user(self, claims):
        user = self.UserModel(username=self.get_username(claims))
        user.set_unusable_password()
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        if not user.is_active:
            raise LoginRefused("Your account here is switched off. Please ask an administrator.")
        user.email = str(claims.get("email") or user.email)[:254]
        user.first_name = str(claims.get("given_name") or user.first_name)[:150]
        user.last_name = str(claims.get("family_name") or user.last_name)[:150]
        user.save()
        if settings.OIDC_GROUPS_CLAIM:
            named = claims.get(settings.OIDC_GROUPS_CLAIM) or []
            if isinstance(named, str):
                named = [named]
            user.groups.set(Group.objects.filter(name__in=[str(name) for name in named]))
        return user
