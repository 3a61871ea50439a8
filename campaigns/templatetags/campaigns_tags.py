from django import template
from django.urls import reverse

from ..services.feedback import survey_token

register = template.Library()


@register.simple_tag(takes_context=True)
def survey_link(context, member) -> str:
    """The absolute survey link of a survey campaign member, to send to the customer."""
    path = reverse("campaigns:survey", args=[survey_token(member)])
    request = context.get("request")
    return request.build_absolute_uri(path) if request else path
