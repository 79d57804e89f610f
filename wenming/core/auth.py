"""API authentication: personal bearer tokens (stored hashed) or the console session."""

from django.utils import timezone
from ninja.security import HttpBearer, django_auth

from .models import ApiToken


class BearerToken(HttpBearer):
    openapi_description = "Authorization: Bearer <token>，令牌由 POST /api/v1/auth/token 或控制台“API令牌”页面获得。"

    def authenticate(self, request, token):
        try:
            row = ApiToken.objects.select_related("user").get(key_hash=ApiToken.hash(token), revoked_at=None)
        except ApiToken.DoesNotExist:
            return None
        if not row.user.is_active:
            return None
        now = timezone.now()
        # Touch at most once a minute: a busy client must not write on every call.
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


api_auth = [BearerToken(), django_auth]
