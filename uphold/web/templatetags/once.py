"""`{% once_token %}`: the hidden one-time token of a creating form (see web/once.py)."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from uphold.web import once

register = template.Library()


@register.simple_tag(takes_context=True)
def once_token(context: template.Context) -> SafeString:
    token = once.token_for_page(context["request"])
    return format_html('<input type="hidden" name="{}" value="{}">', once.FIELD, token)
