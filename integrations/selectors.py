"""Reads of integrations for the managers' pages."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from .models import DeliveryStatus, WebhookDelivery, WebhookSubscription


def subscription_list():
    """Every subscription with its pending count and its last day's delivered and failed."""
    since = timezone.now() - timedelta(days=1)
    return WebhookSubscription.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        delivered_day=Count(
            "deliveries", filter=Q(deliveries__status=DeliveryStatus.DELIVERED, deliveries__created_at__gte=since)
        ),
        failed_day=Count(
            "deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED, deliveries__created_at__gte=since)
        ),
    ).order_by("name")


def delivery_log(*, subscription, status: str = ""):
    qs = WebhookDelivery.objects.filter(subscription=subscription).order_by("-created_at", "-pk")
    return qs.filter(status=status) if status else qs
