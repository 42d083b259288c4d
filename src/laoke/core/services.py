"""Writes of the core app: roles, staff users, API tokens, stores."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from . import clock, idempotency
from .audit import audit_write
from .error_codes import ROLE_UNKNOWN, SCOPE_UNKNOWN, STORE_CODE_TAKEN, USERNAME_TAKEN
from .errors import FIELD_REQUIRED, DomainError
from .models import ApiToken, StaffProfile, Store
from .roles import ADMIN, ROLE_PERMISSIONS, SCOPES
from .validation import check_length

TOKEN_PREFIX = "lk_"  # noqa: S105  (a public prefix, not a secret)


def role_permission_names(role: str) -> list[str] | str:
    """The role's permissions: the core table plus what each installed app grants.

    An app grants permissions on its own models by a ``role_permissions = {role: [...]}``
    attribute on its AppConfig, so a new app extends the roles without editing core (and without
    core importing it)."""
    spec = ROLE_PERMISSIONS[role]
    if spec == "*":
        return "*"
    names = list(spec)
    for config in django_apps.get_app_configs():
        for name in getattr(config, "role_permissions", {}).get(role, ()):
            if name not in names:
                names.append(name)
    return names


def _permissions_for(role: str) -> list[Permission]:
    spec = role_permission_names(role)
    if spec == "*":
        return list(Permission.objects.all())
    perms = []
    for dotted in spec:
        app_label, codename = dotted.split(".", 1)
        try:
            perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        except Permission.DoesNotExist as exc:
            raise RuntimeError(f"role {role} names a permission that does not exist: {dotted}") from exc
    return perms


def roles_sync() -> dict[str, int]:
    """Create or update one group per role so it holds exactly the listed permissions."""
    out = {}
    with transaction.atomic(durable=True):
        for role in ROLE_PERMISSIONS:
            group, _ = Group.objects.get_or_create(name=role)
            perms = _permissions_for(role)
            had = set(group.permissions.values_list("content_type__app_label", "codename"))
            group.permissions.set(perms)
            now = set(
                Permission.objects.filter(pk__in=[p.pk for p in perms]).values_list(
                    "content_type__app_label", "codename"
                )
            )
            if now != had:  # a role's permissions changed: who, when, what was added/removed
                audit_write(
                    action="role.sync",
                    obj=group,
                    before={"permissions": len(had)},
                    after={
                        "permissions": len(now),
                        "added": sorted(".".join(k) for k in now - had),
                        "removed": sorted(".".join(k) for k in had - now),
                    },
                )
            out[role] = len(perms)
    return out


def _user_create(*, username: str, password: str, role: str, store: Store | None, superuser: bool):
    if role not in ROLE_PERMISSIONS:
        raise DomainError(ROLE_UNKNOWN, field="role", role=role)
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise DomainError(USERNAME_TAKEN, field="username", username=username)
    user = User.objects.create_user(
        username=username, password=password, is_staff=True, is_superuser=superuser and role == ADMIN
    )
    user.groups.add(Group.objects.get(name=role))
    StaffProfile.objects.create(user=user, store=store)
    audit_write(
        action="user.create",
        obj=user,
        before={"role": None},
        after={"username": username, "role": role, "superuser": user.is_superuser},
    )
    return user


def staff_user_create(*, username: str, password: str, role: str, store: Store | None = None):
    with transaction.atomic(durable=True):
        return _user_create(username=username, password=password, role=role, store=store, superuser=False)


def admin_ensure(*, username: str, password: str | None = None) -> tuple[object, str | None]:
    """Create the admin login if missing (safe to run twice). Returns (user, new password or None)."""
    User = get_user_model()
    with transaction.atomic(durable=True):
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            return existing, None
        password = password or secrets.token_urlsafe(12)
        user = _user_create(username=username, password=password, role=ADMIN, store=None, superuser=True)
        return user, password


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(
    *, user, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is shown once and never stored."""
    for scope in scopes:
        if scope not in SCOPES:
            raise DomainError(SCOPE_UNKNOWN, field="scopes", scope=scope)
    if not name:
        raise DomainError(FIELD_REQUIRED, field="name")
    check_length("name", name, 100)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=secret[:10],
            digest=_digest(secret),
            scopes=sorted(set(scopes)),
            created_at=clock.now(),
            expires_at=expires_at,
        )
        audit_write(
            action="api_token.create",
            obj=token,
            after={"user": user.pk, "name": name, "scopes": token.scopes},
        )
    return token, secret


def api_token_revoke(*, token: ApiToken) -> None:
    with transaction.atomic(durable=True):
        now = clock.now()
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            audit_write(
                action="api_token.revoke",
                obj=token,
                before={"revoked_at": None, "scopes": token.scopes},
                after={"revoked_at": now.isoformat()},
            )


def api_token_lookup(secret: str) -> ApiToken | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(secret)).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = clock.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    return token


def store_create(
    *,
    code: str,
    name: str,
    kind: str = Store.Kind.STORE,
    parent: Store | None = None,
    address: str = "",
    idem: idempotency.Claim | None = None,
) -> Store:
    code = (code or "").strip()
    if not code:
        raise DomainError(FIELD_REQUIRED, field="code")
    if not name:
        raise DomainError(FIELD_REQUIRED, field="name")
    check_length("code", code, 32)
    check_length("name", name, 100)
    check_length("address", address, 255)
    with transaction.atomic(durable=True):
        if Store.objects.filter(code=code).exists():
            raise DomainError(STORE_CODE_TAKEN, field="code", code=code)
        store = Store.objects.create(code=code, name=name, kind=kind, parent=parent, address=address)
        audit_write(action="store.create", obj=store, after={"code": code, "name": name, "kind": kind})
        idempotency.complete(idem, store)
    return store
