"""``{% next_steps_guide product as guide %}``: the article's "Next steps" for a plan changed to
(``planchange.next_steps``)."""

from django import template

from planchange.next_steps import guide_for

register = template.Library()


@register.simple_tag
def next_steps_guide(product):
    return guide_for(product)
