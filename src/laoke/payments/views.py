"""The providers' asynchronous notifications (CSRF-exempt: they are signed by the provider, and
verified before anything is believed)."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import payment_notification_handle


@csrf_exempt
@require_POST
def notify(request, provider: str):
    status, content_type, body = payment_notification_handle(provider, request)
    return HttpResponse(body, status=status, content_type=content_type)
